/**
 * Flags as code: the backend over flags.yaml. Reads validate the whole file; writes go through
 * the pure planners of edit.ts and replace the file atomically, only if nobody changed it since
 * it was read.
 */
import { relative } from 'node:path'
import { toClientVariants } from './client-api.js'
import type { EnvironmentView, FlagBackend, FlagListing, FlagView, StrategyView } from './backend.js'
import { effectiveRollout, flagNames, planKill, planRollout, planSetEnabled, requireFlag, type FileEdit, type FlagChange } from './edit.js'
import { readFlagsFile, type LoadedFlags } from './flags-file.js'
import { flagTotals, readFlagMetrics, type FlagMetrics } from './metrics.js'
import { DEFAULT_STRATEGY, type FlagDefinition, type StrategyDefinition } from './schema.js'
import { writeFileAtomic } from './atomic-file.js'

export interface FileBackendOptions {
  file: string
  /** .opsctl/flags/metrics.json, written by flags serve. */
  metricsFile?: string
  /** For shorter names in messages. */
  rootDir?: string
}

export function fileFlagBackend(options: FileBackendOptions): FlagBackend {
  const display = options.rootDir ? relative(options.rootDir, options.file) || options.file : options.file
  const metrics = () => (options.metricsFile ? readFlagMetrics(options.metricsFile) : undefined)
  const change = async (plan: (loaded: LoadedFlags) => FileEdit): Promise<FlagChange> => {
    const loaded = readFlagsFile(options.file)
    const edit = plan(loaded)
    if (edit.change.changed) await writeFileAtomic(options.file, edit.text, { expected: loaded.text })
    return edit.change
  }
  return {
    kind: 'file',
    source: display,
    async list(): Promise<FlagListing> {
      const loaded = readFlagsFile(options.file)
      const counts = metrics()
      return {
        source: display,
        backend: 'file',
        environments: loaded.flags.environments,
        flags: flagNames(loaded).map((name) => flagView(loaded, name, counts)),
        evaluationsKnown: counts !== undefined && Object.keys(counts.flags).length + Object.keys(counts.applications).length > 0,
      }
    },
    async get(name) {
      const loaded = readFlagsFile(options.file)
      requireFlag(loaded, name)
      return flagView(loaded, name, metrics())
    },
    setEnabled: (name, environment, enabled) => change((loaded) => planSetEnabled(loaded, name, environment, enabled)),
    setRollout: (name, environment, percent) => change((loaded) => planRollout(loaded, name, environment, percent)),
    kill: (name) => change((loaded) => planKill(loaded, name)),
  }
}

function flagView(loaded: LoadedFlags, name: string, metrics: FlagMetrics | undefined): FlagView {
  const flag = loaded.flags.flags[name] as FlagDefinition
  const environments: EnvironmentView[] = loaded.flags.environments.map((environment) => {
    const config = flag.environments[environment]
    const counts = metrics?.flags[name]?.[environment]
    const strategies = config ? (config.strategies.length ? config.strategies : [DEFAULT_STRATEGY]) : []
    return {
      name: environment,
      enabled: config?.enabled ?? false,
      rollout: effectiveRollout(config) ?? undefined,
      strategies: strategies.map((strategy) => strategyView(strategy, name)),
      variants: toClientVariants(config?.variants ?? [], config?.variantsAsWritten).map((variant) => ({
        name: variant.name,
        weightPercent: variant.weight / 10,
      })),
      evaluations: counts ? { yes: counts.yes, no: counts.no, lastSeenAt: counts.lastSeenAt } : undefined,
    }
  })
  return {
    name,
    type: flag.type,
    description: flag.description,
    owner: flag.owner,
    createdAt: flag.created,
    environments,
    ...(flag.dependencies.length ? { parents: flag.dependencies.map((dependency) => dependency.feature) } : {}),
    evaluations: flagTotals(metrics, name),
  }
}

export function strategyView(strategy: StrategyDefinition, flagName: string): StrategyView {
  const conditions = [
    ...strategy.constraints.map(
      (c) => `${c.inverted ? 'not ' : ''}${c.contextName} ${c.operator} ${c.value ?? (c.values ?? []).join('|')}`,
    ),
    ...strategy.segments.map((segment) => `segment ${segment}`),
  ]
  const constraints = conditions.length ? ` when ${conditions.join(' and ')}` : ''
  switch (strategy.name) {
    case 'default':
      return { name: strategy.name, summary: `everyone${constraints}` }
    case 'flexibleRollout': {
      const group = strategy.groupId && strategy.groupId !== flagName ? `, group ${strategy.groupId}` : ''
      return {
        name: strategy.name,
        rollout: strategy.rollout,
        summary: `${strategy.rollout}% by ${strategy.stickiness}${group}${constraints}`,
      }
    }
    case 'userWithId':
      return { name: strategy.name, summary: `users ${strategy.userIds.join(', ')}${constraints}` }
    case 'remoteAddress':
      return { name: strategy.name, summary: `addresses ${strategy.IPs.join(', ')}${constraints}` }
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
      return {
        name: strategy.name,
        rollout: strategy.percentage,
        summary: `${strategy.percentage}% by ${strategy.name === 'gradualRolloutUserId' ? 'userId' : 'sessionId'}${strategy.groupId ? `, group ${strategy.groupId}` : ''}${constraints} (deprecated)`,
      }
    case 'gradualRolloutRandom':
      return { name: strategy.name, rollout: strategy.percentage, summary: `${strategy.percentage}% at random${constraints} (deprecated)` }
  }
}
