export { DEFAULT_FLOW_TIMEZONE, addIsoDuration, isIsoDuration, isoDurationMs, parseIsoDuration, type IsoDuration, type ParsedDuration } from './duration';
export { cronProblem, isValidCron, nextCronFire } from './cron';
export { DEFAULT_INITIAL_DELAY, DEFAULT_MAX_ATTEMPTS, MAX_RETRY_DELAY_MS, retryDelayMs, retryMaxAttempts } from './retry';
export { instantOfWall, isTimeZone, wallClockAt } from './zone';
