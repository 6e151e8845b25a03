/** Time is injected so the tracker and the point parser can be tested with fake timers and fixed dates. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
