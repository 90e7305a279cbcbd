/**
 * A fixed number of slots for work that must not run unbounded (each streamed import holds a parse
 * thread and its memory). `tryTake` answers a release function, or undefined when every slot is taken:
 * the caller refuses rather than queues, so a flood of uploads cannot pile up held connections.
 */
export function createSlots(size: number) {
  let taken = 0;
  return {
    tryTake(): (() => void) | undefined {
      if (taken >= size) return undefined;
      taken++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        taken--;
      };
    },
    get inUse() {
      return taken;
    },
  };
}
