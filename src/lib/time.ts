/** Current time as an ISO-8601 UTC string with milliseconds: the one timestamp format stored. */
export function nowIso(): string {
  return new Date().toISOString();
}
