/**
 * The driver for a real Unleash server (5.x/6.x Admin API): list flags, toggle one per
 * environment, change a flexibleRollout percentage, kill (off everywhere). An adapter over
 * fetch; selected when UNLEASH_URL and UNLEASH_API_TOKEN are set.
 */
import { badInput, closestKey, environmentError, OpsError, ExitCode } from '../core/index.js'
import type { EnvironmentView, FlagBackend, FlagListing, FlagView, StrategyView } from './backend.js'
import type { FlagChange } from './edit.js'

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
}

/** `https://host/api/` or `https://host` -> `https://host/api`. */
export function unleashApiBase(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw badInput(`UNLEASH_URL is not a URL: ${JSON.stringify(url)}`, 'Set it to the server\'s API root, e.g. https://unleash.example.com/api')
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

  async function request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T | undefined }> {
    let response: Response
    try {
      response = await fetch(`${base}/admin${path}`, {
        method,
        headers: { authorization: options.token, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      throw environmentError(`Cannot reach ${display}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, 'Check UNLEASH_URL and that the server is up.', error)
    }
    const text = await response.text()
    let data: unknown
    try {
      data = text ? JSON.parse(text) : undefined
    } catch {
      data = undefined
    }
    if (response.status === 401 || response.status === 403) {
      throw environmentError(`${display} refused the API token (${response.status})`, 'UNLEASH_API_TOKEN must be an admin API token or a personal access token with access to the project.')
    }
    if (response.status >= 400 && response.status !== 404) {
      const message = (data as { message?: string; details?: Array<{ message?: string }> } | undefined)?.details?.[0]?.message ?? (data as { message?: string } | undefined)?.message ?? text.slice(0, 200)
      throw new OpsError(`${display} answered ${method} ${path} with ${response.status}: ${message}`, { exit: response.status < 500 ? ExitCode.BadInput : ExitCode.Environment })
    }
    return { status: response.status, data: data as T | undefined }
  }

  async function feature(name: string): Promise<UnleashFeature> {
    const { status, data } = await request<UnleashFeature>('GET', featurePath(name))
    if (status === 404 || !data) {
      const { data: list } = await request<{ features: Array<{ name: string }> }>('GET', `/projects/${encodeURIComponent(project)}/features`)
      const suggestion = closestKey(name, (list?.features ?? []).map((item) => item.name))
      throw badInput(`No flag "${name}" in ${display}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`, 'opsctl flags list shows the flags.')
    }
    return data
  }

  function environmentOf(flag: UnleashFeature, environment: string): UnleashEnvironment {
    const found = flag.environments.find((item) => item.name === environment)
    if (found) return found
    throw badInput(`Unknown environment "${environment}" for ${flag.name} in ${display} (it has ${flag.environments.map((item) => item.name).join(', ')})`, 'Give one of those with --env.')
  }

  async function toggle(flag: string, environment: string, enabled: boolean): Promise<void> {
    const { status } = await request('POST', `${featurePath(flag)}/environments/${encodeURIComponent(environment)}/${enabled ? 'on' : 'off'}`)
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
      const change: FlagChange = { flag: name, change: enabled ? 'enabled' : 'disabled', environment, from: before, to: enabled, changed: before !== enabled, notes: [] }
      if (change.changed) await toggle(name, environment, enabled)
      return change
    },
    async setRollout(name, environment, percent) {
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw badInput(`A rollout is a whole percentage from 0% to 100%, not ${percent}%`)
      const flag = await feature(name)
      const config = environmentOf(flag, environment)
      const strategies = config.strategies ?? []
      const rollouts = strategies.filter((strategy) => strategy.name === 'flexibleRollout')
      if (rollouts.length > 1) throw badInput(`${name} has ${rollouts.length} flexibleRollout strategies in ${environment}; which one to change is ambiguous`, 'Change it in the Unleash UI.')
      const from = environmentRollout(config)
      const change: FlagChange = { flag: name, change: 'rollout', environment, from: from ?? null, to: percent, changed: true, notes: [] }
      if (!config.enabled) change.notes.push(`${name} is disabled in ${environment}: the rollout takes effect once it is enabled`)
      const strategiesPath = `${featurePath(name)}/environments/${encodeURIComponent(environment)}/strategies`
      const existing = rollouts[0]
      if (existing && !existing.id) throw environmentError(`${display} did not give the id of ${name}'s flexibleRollout strategy in ${environment}`, 'Change it in the Unleash UI.')
      if (existing?.id) {
        if (Number(existing.parameters?.rollout) === percent) return { ...change, changed: false }
        const { id: _id, sortOrder: _sortOrder, ...rest } = existing
        await request('PUT', `${strategiesPath}/${existing.id}`, { ...rest, parameters: { ...existing.parameters, rollout: String(percent) } })
      } else {
        await request('POST', strategiesPath, { name: 'flexibleRollout', parameters: { rollout: String(percent), stickiness: 'default', groupId: name }, constraints: [] })
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
      return { flag: name, change: 'killed', from, to, changed: on.length > 0, notes: on.length ? [] : [`${name} was already off in every environment`] }
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
    evaluations: config.yes !== undefined || config.no !== undefined ? { yes: config.yes ?? 0, no: config.no ?? 0, lastSeenAt: config.lastSeenAt ?? undefined } : undefined,
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
    evaluations: yes + no > 0 || flag.lastSeenAt ? { yes, no, lastSeenAt: flag.lastSeenAt ?? undefined } : undefined,
  }
}

function strategyView(strategy: UnleashStrategy): StrategyView {
  const parameters = strategy.parameters ?? {}
  const constraints = strategy.constraints?.length ? ` (${strategy.constraints.length} constraint${strategy.constraints.length === 1 ? '' : 's'})` : ''
  const disabled = strategy.disabled ? ' [disabled]' : ''
  switch (strategy.name) {
    case 'flexibleRollout':
      return { name: strategy.name, rollout: Number(parameters.rollout ?? 0), summary: `${parameters.rollout ?? 0}% by ${parameters.stickiness ?? 'default'}${constraints}${disabled}` }
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
