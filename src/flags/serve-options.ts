import type { Settings } from '../core/index.js'
import { flagStatePaths, flagsFilePath } from './flag-service.js'
import type { FlagServerOptions } from './server.js'
import { tokensFromLists } from './tokens.js'

export interface ServeRequest {
  file?: string | undefined
  host?: string | undefined
  port?: number | undefined
  clientTokens?: readonly string[] | undefined
  frontendTokens?: readonly string[] | undefined
}

/**
 * The options `flags serve` (and `opsctl demo`) start the server with: flags.yaml beside
 * opsctl.yaml, metrics in .opsctl/flags/metrics.json, and tokens given, or else generated once
 * and kept in .opsctl/flags/tokens.json (mode 600) so that SDKs keep working across restarts.
 */
export function flagServerOptions(settings: Settings, request: ServeRequest = {}): FlagServerOptions {
  const paths = flagStatePaths(settings.stateDir)
  const configured = settings.config.flags
  request = {
    ...request,
    host: request.host ?? configured?.host,
    port: request.port ?? configured?.port,
    clientTokens: request.clientTokens?.length ? request.clientTokens : configured?.clientTokens,
    frontendTokens: request.frontendTokens?.length ? request.frontendTokens : configured?.frontendTokens,
  }
  const given = (request.clientTokens?.length ?? 0) + (request.frontendTokens?.length ?? 0) > 0
  return {
    file: flagsFilePath(settings, request.file),
    ...(request.host ? { host: request.host } : {}),
    ...(request.port !== undefined ? { port: request.port } : {}),
    metricsFile: paths.metrics,
    ...(given ? { tokens: tokensFromLists(request.clientTokens ?? [], request.frontendTokens ?? []) } : { tokensFile: paths.tokens }),
  }
}
