export { buildApp, type AppOptions } from './app.js'
export { ConfigError, loadServiceConfig, type FaultSettings, type LogLevel, type ServiceConfig } from './config.js'
export {
  FLAG_ORDERS_EAGER_LOADING,
  envFlagProvider,
  flagProviderFromEnv,
  parseFlagList,
  unleashFlagProvider,
  type FlagContext,
  type FlagProvider,
} from './flags.js'
export { migrate, type MigrationResult } from './migrate.js'
export { MIGRATIONS, type Migration } from './schema.js'
export { seed, type SeedOptions, type SeedResult } from './seed.js'
export { DEFAULT_SEED_COUNTS, generateSeedData, seedCounts, type SeedCounts } from './seed-data.js'
export { aggregateRevenueByProductAndMonth, type RevenueReport, type RevenueRow } from './revenue.js'
export { startReferenceService, type ReferenceService, type ReferenceServiceOptions } from './service.js'
export { readServiceVersion } from './version.js'
