export { OpsCommand } from './ops-command.js'
export { databaseConfigFlags, databaseFlags, durationFlag, percentFlag, sizeFlag } from './flags.js'
