/** Time comes through a clock so that pure cores and tests never read the wall clock themselves. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

export function fixedClock(at: Date | string): Clock {
  const date = typeof at === 'string' ? new Date(at) : at
  return { now: () => new Date(date.getTime()) }
}
