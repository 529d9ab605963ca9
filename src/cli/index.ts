export { OpsCommand, asOpsError, type OpsArgs, type OpsFlags } from './ops-command.js'
