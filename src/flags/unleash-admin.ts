/**
 * The driver for a real Unleash server (5.x/6.x Admin API): list flags, toggle one per
 * environment, change a flexibleRollout percentage, kill (off everywhere). An adapter over
 * fetch; selected when UNLEASH_URL and UNLEASH_API_TOKEN are set.
 */
import { badInput, closestKey, environmentError, OpsError, ExitCode } from '../core/index.js'
import type { EnvironmentView, FlagBackend, FlagListing, FlagView, StrategyView } from './backend.js'
import type { FlagChange } from './edit.js'
import { strategyParameters, toClientConstraint, toClientVariants } from './client-api.js'
import {
  DEFAULT_STRATEGY,
  isKnownOperator,
  URL_SAFE_NAME_PATTERN,
  type Constraint,
  type FlagsFile,
  type StrategyDefinition,
  type VariantDefinition,
} from './schema.js'

export interface UnleashAdminOptions {
  /** UNLEASH_URL: the server's API root, e.g. https://unleash.example.com/api (a URL without /api gets it added). */
  url: string
  /** UNLEASH_API_TOKEN: an admin token or a personal access token. */
  token: string
  /** Unleash project (default "default"). */
  project?: string
  timeoutMs?: number
}

interface UnleashStrategy {
  id?: string
  name: string
  title?: string | null
  disabled?: boolean | null
  parameters?: Record<string, string>
  constraints?: unknown[]
  variants?: unknown[]
  segments?: number[]
  sortOrder?: number
}

interface UnleashEnvironment {
  name: string
  enabled: boolean
  type?: string
  lastSeenAt?: string | null
  yes?: number
  no?: number
  strategies?: UnleashStrategy[]
  variants?: Array<{ name: string; weight: number }>
}

interface UnleashFeature {
  name: string
  type: string
  description?: string | null
  createdAt?: string | null
  lastSeenAt?: string | null
  createdBy?: { name?: string } | null
  environments: UnleashEnvironment[]
  /** Unleash 5.7+: parents, and the names of children. */
  dependencies?: Array<{ feature: string; enabled?: boolean }>
  children?: string[]
}

/** `https://host/api/` or `https://host` -> `https://host/api`. */
export function unleashApiBase(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw badInput(
      `UNLEASH_URL is not a URL: ${JSON.stringify(url)}`,
      "Set it to the server's API root, e.g. https://unleash.example.com/api",
    )
  }
  const path = parsed.pathname.replace(/\/+$/, '')
  parsed.pathname = path.endsWith('/api') ? path : `${path}/api`
  parsed.search = ''
  parsed.hash = ''
  return parsed.toString().replace(/\/+$/, '')
}

export function unleashAdminBackend(options: UnleashAdminOptions): FlagBackend {
  const base = unleashApiBase(options.url)
  const project = options.project ?? 'default'
  const display = `Unleash at ${new URL(base).origin}${new URL(base).pathname} (project ${project})`
  const timeoutMs = options.timeoutMs ?? 15_000
  const featurePath = (name: string) => `/projects/${encodeURIComponent(project)}/features/${encodeURIComponent(name)}`

  const request = adminCaller(base, options.token, display, timeoutMs)

  async function feature(name: string): Promise<UnleashFeature> {
    const { status, data } = await request<UnleashFeature>('GET', featurePath(name))
    if (status === 404 || !data) {
      const { data: list } = await request<{ features: Array<{ name: string }> }>(
        'GET',
        `/projects/${encodeURIComponent(project)}/features`,
      )
      const suggestion = closestKey(
        name,
        (list?.features ?? []).map((item) => item.name),
      )
      throw badInput(
        `No flag "${name}" in ${display}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
        'opsctl flags list shows the flags.',
      )
    }
    return data
  }

  function environmentOf(flag: UnleashFeature, environment: string): UnleashEnvironment {
    const found = flag.environments.find((item) => item.name === environment)
    if (found) return found
    throw badInput(
      `Unknown environment "${environment}" for ${flag.name} in ${display} (it has ${flag.environments.map((item) => item.name).join(', ')})`,
      'Give one of those with --env.',
    )
  }

  async function toggle(flag: string, environment: string, enabled: boolean): Promise<void> {
    const { status } = await request(
      'POST',
      `${featurePath(flag)}/environments/${encodeURIComponent(environment)}/${enabled ? 'on' : 'off'}`,
    )
    if (status === 404) throw badInput(`${display} has no environment "${environment}" for ${flag}`)
  }

  return {
    kind: 'unleash',
    source: display,
    async list(): Promise<FlagListing> {
      const { data } = await request<{ features: Array<{ name: string }> }>('GET', `/projects/${encodeURIComponent(project)}/features`)
      const names = (data?.features ?? []).map((item) => item.name)
      const details: UnleashFeature[] = []
      // A detail request per flag: the list lacks strategies. A few at a time, not all at once.
      for (let i = 0; i < names.length; i += 8) details.push(...(await Promise.all(names.slice(i, i + 8).map((name) => feature(name)))))
      const environments = [...new Set(details.flatMap((flag) => flag.environments.map((item) => item.name)))]
      return {
        source: display,
        backend: 'unleash',
        environments,
        flags: details.map(flagView),
        evaluationsKnown: details.some((flag) => Boolean(flag.lastSeenAt)),
      }
    },
    async get(name) {
      return flagView(await feature(name))
    },
    async setEnabled(name, environment, enabled) {
      const before = environmentOf(await feature(name), environment).enabled
      const change: FlagChange = {
        flag: name,
        change: enabled ? 'enabled' : 'disabled',
        environment,
        from: before,
        to: enabled,
        changed: before !== enabled,
        notes: [],
      }
      if (change.changed) await toggle(name, environment, enabled)
      return change
    },
    async setRollout(name, environment, percent) {
      if (!Number.isInteger(percent) || percent < 0 || percent > 100)
        throw badInput(`A rollout is a whole percentage from 0% to 100%, not ${percent}%`)
      const flag = await feature(name)
      const config = environmentOf(flag, environment)
      const strategies = config.strategies ?? []
      const rollouts = strategies.filter((strategy) => strategy.name === 'flexibleRollout')
      if (rollouts.length > 1)
        throw badInput(
          `${name} has ${rollouts.length} flexibleRollout strategies in ${environment}; which one to change is ambiguous`,
          'Change it in the Unleash UI.',
        )
      const from = environmentRollout(config)
      const change: FlagChange = { flag: name, change: 'rollout', environment, from: from ?? null, to: percent, changed: true, notes: [] }
      if (!config.enabled) change.notes.push(`${name} is disabled in ${environment}: the rollout takes effect once it is enabled`)
      const strategiesPath = `${featurePath(name)}/environments/${encodeURIComponent(environment)}/strategies`
      const existing = rollouts[0]
      if (existing && !existing.id)
        throw environmentError(
          `${display} did not give the id of ${name}'s flexibleRollout strategy in ${environment}`,
          'Change it in the Unleash UI.',
        )
      if (existing?.id) {
        if (Number(existing.parameters?.rollout) === percent) return { ...change, changed: false }
        const { id: _id, sortOrder: _sortOrder, ...rest } = existing
        await request('PUT', `${strategiesPath}/${existing.id}`, {
          ...rest,
          parameters: { ...existing.parameters, rollout: String(percent) },
        })
      } else {
        await request('POST', strategiesPath, {
          name: 'flexibleRollout',
          parameters: { rollout: String(percent), stickiness: 'default', groupId: name },
          constraints: [],
        })
        for (const strategy of strategies.filter((item) => item.name === 'default' && item.id)) {
          await request('DELETE', `${strategiesPath}/${strategy.id}`)
          change.notes.push(`replaced the default strategy (everyone) with a ${percent}% flexibleRollout`)
        }
      }
      return change
    },
    async kill(name) {
      const flag = await feature(name)
      const from = Object.fromEntries(flag.environments.map((item) => [item.name, item.enabled]))
      const on = flag.environments.filter((item) => item.enabled)
      // Every environment at once: the requests go out together, not one after the other.
      await Promise.all(on.map((item) => toggle(name, item.name, false)))
      const to = Object.fromEntries(flag.environments.map((item) => [item.name, false]))
      const children = flag.children?.length
        ? [
            `${flag.children.join(', ')} depend${flag.children.length === 1 ? 's' : ''} on ${name}: those that need it on are off with it, those that need it off come on`,
          ]
        : []
      return {
        flag: name,
        change: 'killed',
        from,
        to,
        changed: on.length > 0,
        notes: [...(on.length ? [] : [`${name} was already off in every environment`]), ...children],
      }
    },
  }
}

function environmentRollout(config: UnleashEnvironment): number | undefined {
  const strategies = (config.strategies ?? []).filter((strategy) => !strategy.disabled)
  if (strategies.length === 0) return config.enabled ? 100 : undefined
  const rollout = strategies.find((strategy) => strategy.name === 'flexibleRollout')
  if (rollout) return Number(rollout.parameters?.rollout ?? 0)
  return strategies.some((strategy) => strategy.name === 'default') ? 100 : undefined
}

function flagView(flag: UnleashFeature): FlagView {
  const environments: EnvironmentView[] = flag.environments.map((config) => ({
    name: config.name,
    enabled: config.enabled,
    rollout: environmentRollout(config),
    strategies: (config.strategies ?? []).map(strategyView),
    variants: (config.variants ?? []).map((variant) => ({ name: variant.name, weightPercent: variant.weight / 10 })),
    evaluations:
      config.yes !== undefined || config.no !== undefined
        ? { yes: config.yes ?? 0, no: config.no ?? 0, lastSeenAt: config.lastSeenAt ?? undefined }
        : undefined,
  }))
  const yes = environments.reduce((sum, item) => sum + (item.evaluations?.yes ?? 0), 0)
  const no = environments.reduce((sum, item) => sum + (item.evaluations?.no ?? 0), 0)
  return {
    name: flag.name,
    type: flag.type,
    description: flag.description ?? '',
    owner: flag.createdBy?.name,
    createdAt: flag.createdAt ?? undefined,
    environments,
    ...(flag.dependencies?.length ? { parents: flag.dependencies.map((dependency) => dependency.feature) } : {}),
    evaluations: yes + no > 0 || flag.lastSeenAt ? { yes, no, lastSeenAt: flag.lastSeenAt ?? undefined } : undefined,
  }
}

function strategyView(strategy: UnleashStrategy): StrategyView {
  const parameters = strategy.parameters ?? {}
  const constraints = strategy.constraints?.length
    ? ` (${strategy.constraints.length} constraint${strategy.constraints.length === 1 ? '' : 's'})`
    : ''
  const disabled = strategy.disabled ? ' [disabled]' : ''
  switch (strategy.name) {
    case 'flexibleRollout':
      return {
        name: strategy.name,
        rollout: Number(parameters.rollout ?? 0),
        summary: `${parameters.rollout ?? 0}% by ${parameters.stickiness ?? 'default'}${constraints}${disabled}`,
      }
    case 'default':
      return { name: strategy.name, summary: `everyone${constraints}${disabled}` }
    case 'userWithId':
      return { name: strategy.name, summary: `users ${parameters.userIds ?? ''}${constraints}${disabled}` }
    case 'remoteAddress':
      return { name: strategy.name, summary: `addresses ${parameters.IPs ?? ''}${constraints}${disabled}` }
    default:
      return { name: strategy.name, summary: `${strategy.name}${constraints}${disabled}` }
  }
}

// --- push: flags.yaml onto a real Unleash ---------------------------------------------------------

export interface PushResult {
  target: string
  environments: string[]
  /** Flags written, and whether each was created (or updated). */
  flags: Array<{ name: string; created: boolean }>
  segments: string[]
  notes: string[]
}

/**
 * Writes flags.yaml onto a real Unleash through its Admin API, so that SDKs reading Unleash see
 * what `flags serve` serves: segments (created or updated by name), flags (created or
 * updated), per environment the switch, the strategies (replaced, with their segments and
 * variants), the environment's variants, and dependencies. What Unleash cannot hold is refused
 * before anything is written: variants as written (Unleash renormalises and sorts), a missing
 * parent or segment, a parent with parents, a name that is not URL-safe, an operator Unleash
 * does not have. Deprecated strategies go as the flexibleRollout that
 * does the same.
 */
export async function pushFlagsToUnleash(file: FlagsFile, options: UnleashAdminOptions): Promise<PushResult> {
  const refusals = pushRefusals(file)
  if (refusals.length)
    throw badInput(
      `Unleash cannot hold this flags.yaml as it is:\n${refusals.map((line) => `  ${line}`).join('\n')}`,
      'Fix these in flags.yaml first.',
    )
  const base = unleashApiBase(options.url)
  const project = options.project ?? 'default'
  const target = `Unleash at ${new URL(base).origin}${new URL(base).pathname} (project ${project})`
  const call = adminCaller(base, options.token, target, options.timeoutMs ?? 15_000)
  const projectPath = `/projects/${encodeURIComponent(project)}`
  const notes: string[] = []

  const { data: serverEnvironments } = await call<{ environments: Array<{ name: string }> }>('GET', '/environments')
  const known = new Set((serverEnvironments?.environments ?? []).map((item) => item.name))
  const unknown = file.environments.filter((environment) => !known.has(environment))
  if (unknown.length)
    throw badInput(`${target} has no environment ${unknown.join(', ')}`, 'Create it in Unleash, or remove it from flags.yaml.')
  for (const environment of file.environments) await call('POST', `${projectPath}/environments`, { environment }, [409, 400])

  const { data: existingSegments } = await call<{ segments: Array<{ id: number; name: string }> }>('GET', '/segments')
  const segmentIds = new Map<string, number>()
  for (const [name, segment] of Object.entries(file.segments)) {
    const body = { name, description: segment.description ?? '', constraints: segment.constraints.map(toClientConstraint) }
    const existing = existingSegments?.segments.find((item) => item.name === name)
    if (existing) {
      await call('PUT', `/segments/${existing.id}`, body)
      segmentIds.set(name, existing.id)
    } else {
      const { data } = await call<{ id: number }>('POST', '/segments', body)
      if (!data?.id) throw environmentError(`${target} did not give the id of the new segment ${name}`)
      segmentIds.set(name, data.id)
    }
  }

  const flags: PushResult['flags'] = []
  for (const [name, flag] of Object.entries(file.flags)) {
    const featurePath = `${projectPath}/features/${encodeURIComponent(name)}`
    const { status, data: current } = await call<{ environments?: Array<{ name: string; strategies?: Array<{ id: string }> }> }>(
      'GET',
      featurePath,
    )
    const metadata = { name, type: flag.type, description: flag.description, impressionData: flag.impressionData }
    if (status === 404) await call('POST', `${projectPath}/features`, metadata)
    else await call('PUT', featurePath, metadata)
    flags.push({ name, created: status === 404 })
    for (const environment of file.environments) {
      const config = flag.environments[environment]
      const environmentPath = `${featurePath}/environments/${encodeURIComponent(environment)}`
      if (current) {
        const strategies = current.environments?.find((item) => item.name === environment)?.strategies ?? []
        for (const strategy of strategies) await call('DELETE', `${environmentPath}/strategies/${strategy.id}`)
      }
      const strategies = config?.strategies.length ? config.strategies : config ? [DEFAULT_STRATEGY] : []
      for (const strategy of strategies) {
        const { name: strategyName, parameters, variants } = unleashStrategy(strategy, name, config?.variants ?? [])
        if (strategyName !== strategy.name) notes.push(`${name} (${environment}): ${strategy.name} written as ${strategyName}`)
        await call('POST', `${environmentPath}/strategies`, {
          name: strategyName,
          parameters,
          constraints: strategy.constraints.map(toClientConstraint),
          variants,
          segments: strategy.segments.map((segment) => segmentIds.get(segment)!),
        })
      }
      await call('POST', `${environmentPath}/${config?.enabled ? 'on' : 'off'}`)
    }
  }
  for (const [name, flag] of Object.entries(file.flags)) {
    const featurePath = `${projectPath}/features/${encodeURIComponent(name)}`
    await call('DELETE', `${featurePath}/dependencies`, undefined, [404])
    for (const dependency of flag.dependencies)
      await call('POST', `${featurePath}/dependencies`, {
        feature: dependency.feature,
        enabled: dependency.enabled,
        ...(dependency.enabled && dependency.variants?.length ? { variants: dependency.variants } : {}),
      })
  }
  return { target, environments: file.environments, flags, segments: [...segmentIds.keys()], notes }
}

/** What Unleash would refuse, or hold differently from what flags serve serves. */
export function pushRefusals(file: FlagsFile): string[] {
  const refusals: string[] = []
  const unknownOperators = (constraints: readonly Constraint[], where: string) => {
    for (const constraint of constraints)
      if (!isKnownOperator(constraint.operator)) refusals.push(`${where}: operator ${constraint.operator} is not one of Unleash's`)
  }
  for (const [name, segment] of Object.entries(file.segments)) unknownOperators(segment.constraints, `segment ${name}`)
  for (const [name, flag] of Object.entries(file.flags)) {
    if (!URL_SAFE_NAME_PATTERN.test(name))
      refusals.push(`${name}: not a URL-safe name (letters, digits, ".", "_", "-", "~"), which Unleash refuses to create`)
    for (const dependency of flag.dependencies) {
      const parent = file.flags[dependency.feature]
      if (!parent) refusals.push(`${name}: its parent ${dependency.feature} is not defined`)
      else if (parent.dependencies.length)
        refusals.push(`${name}: its parent ${dependency.feature} has parents of its own (Unleash allows one level)`)
    }
    for (const [environment, config] of Object.entries(flag.environments)) {
      if (config.variantsAsWritten) refusals.push(`${name} (${environment}): variantsAsWritten (Unleash normalises and sorts variants)`)
      for (const strategy of config.strategies) {
        const group = 'groupId' in strategy ? (strategy.groupId ?? (strategy.name === 'flexibleRollout' ? name : '')) : name
        if (config.variants.length && strategy.variants.length === 0 && group !== name)
          refusals.push(
            `${name} (${environment}): the environment's variants with a ${strategy.name} of group ${JSON.stringify(group)} (Unleash 6 takes variants only on strategies, hashed by their group)`,
          )
        if (strategy.variantsAsWritten)
          refusals.push(`${name} (${environment}): a strategy's variantsAsWritten (Unleash normalises and sorts variants)`)
        for (const segment of strategy.segments)
          if (!file.segments[segment]) refusals.push(`${name} (${environment}): segment ${segment} is not defined`)
        unknownOperators(strategy.constraints, `${name} (${environment})`)
      }
    }
  }
  return refusals
}

/**
 * A strategy as Unleash 6 takes it. Deprecated strategies become the flexibleRollout that
 * buckets users the same way (Unleash 5+ removed them). The environment's variants (which
 * Unleash 6 no longer accepts) go onto each strategy without variants of its own, hashed as
 * SDKs hash the flag's: group the flag's name, stickiness the first variant's (a default
 * strategy becomes a 100% flexibleRollout, which is on for everyone all the same).
 */
function unleashStrategy(
  strategy: StrategyDefinition,
  flagName: string,
  environmentVariants: readonly VariantDefinition[],
): { name: string; parameters: Record<string, string>; variants: Array<Record<string, unknown>> } {
  const base = unleashStrategyParameters(strategy, flagName)
  if (strategy.variants.length > 0 || environmentVariants.length === 0)
    return { ...base, variants: unleashVariants(strategy.variants, strategyStickiness(strategy)) }
  const stickiness = toClientVariants(environmentVariants)[0]?.stickiness ?? 'default'
  const variants = unleashVariants(
    environmentVariants.map((variant) => ({ ...variant, stickiness })),
    stickiness,
  )
  if (base.name === 'default')
    return { name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: flagName }, variants }
  return { name: base.name, parameters: { ...base.parameters, groupId: flagName }, variants }
}

function unleashStrategyParameters(strategy: StrategyDefinition, flagName: string): { name: string; parameters: Record<string, string> } {
  switch (strategy.name) {
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
      return {
        name: 'flexibleRollout',
        parameters: {
          rollout: String(strategy.percentage),
          stickiness: strategy.name === 'gradualRolloutUserId' ? 'userId' : 'sessionId',
          groupId: strategy.groupId ?? '',
        },
      }
    case 'gradualRolloutRandom':
      return { name: 'flexibleRollout', parameters: { rollout: String(strategy.percentage), stickiness: 'random', groupId: flagName } }
    default:
      return { name: strategy.name, parameters: strategyParameters(strategy, flagName) }
  }
}

/** What SDKs fall back to for a strategy's variants without a stickiness of their own. */
function strategyStickiness(strategy: StrategyDefinition): string {
  if (strategy.name === 'flexibleRollout') return strategy.stickiness
  if (strategy.name === 'gradualRolloutUserId') return 'userId'
  if (strategy.name === 'gradualRolloutSessionId') return 'sessionId'
  return 'default'
}

/**
 * Variants in the form Unleash's Admin API takes, in file order: those without a weight are
 * "variable" (Unleash shares the rest among them in this order, as flags serve does); when all
 * have one, the last is sent as variable, since Unleash requires one, and it gets the same rest.
 * Unleash requires a stickiness on each: a variant without one gets what SDKs fall back to.
 */
function unleashVariants(variants: readonly VariantDefinition[], fallbackStickiness: string): Array<Record<string, unknown>> {
  const weights = new Map(toClientVariants(variants).map((variant) => [variant.name, variant.weight]))
  const anyVariable = variants.some((variant) => variant.weight === undefined)
  return variants.map((variant, index) => ({
    name: variant.name,
    weight: weights.get(variant.name),
    weightType: variant.weight === undefined || (!anyVariable && index === variants.length - 1) ? 'variable' : 'fix',
    stickiness: variant.stickiness ?? fallbackStickiness,
    ...(variant.payload ? { payload: variant.payload } : {}),
    ...(variant.overrides ? { overrides: variant.overrides } : {}),
  }))
}

type AdminCall = <T>(method: string, path: string, body?: unknown, tolerated?: number[]) => Promise<{ status: number; data: T | undefined }>

function adminCaller(base: string, token: string, display: string, timeoutMs: number): AdminCall {
  return async <T>(method: string, path: string, body?: unknown, tolerated: number[] = []) => {
    let response: Response
    try {
      response = await fetch(`${base}/admin${path}`, {
        method,
        headers: {
          authorization: token,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      throw environmentError(
        `Cannot reach ${display}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        'Check UNLEASH_URL and that the server is up.',
        error,
      )
    }
    const text = await response.text()
    let data: unknown
    try {
      data = text ? JSON.parse(text) : undefined
    } catch {
      data = undefined
    }
    if (response.status === 401 || response.status === 403)
      throw environmentError(
        `${display} refused the API token (${response.status})`,
        'UNLEASH_API_TOKEN must be an admin API token or a personal access token with access to the project.',
      )
    if (response.status >= 400 && response.status !== 404 && !tolerated.includes(response.status)) {
      const detail = data as { message?: string; details?: Array<{ message?: string }> } | undefined
      throw new OpsError(
        `${display} answered ${method} ${path} with ${response.status}: ${detail?.details?.[0]?.message ?? detail?.message ?? text.slice(0, 200)}`,
        {
          exit: response.status < 500 ? ExitCode.BadInput : ExitCode.Environment,
        },
      )
    }
    return { status: response.status, data: data as T | undefined }
  }
}
