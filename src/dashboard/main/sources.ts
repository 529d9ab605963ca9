/**
 * Where each panel's data comes from: the modules' faces, as the CLI commands use them. Each
 * loader answers, throws NotConfigured (the panel says what to set up), or fails (the panel goes
 * stale). Adapters only; the numbers are shaped by pure functions of model.ts.
 */
import { access } from 'node:fs/promises'
import type { Settings } from '../../core/index.js'
import { activityOptions, connectionsLine, queryText, statementLine, withActivitySource } from '../../activity/index.js'
import { actOnRollout, rolloutStatus, type Rollout } from '../../deploy/index.js'
import { changeFlag, findStale, flagsFilePath, listFlags } from '../../flags/index.js'
import { listIncidents, logIncidentNote, parseSeverity, startIncident } from '../../incident/index.js'
import { openJournal, summarizeEvent, type JournalEvent } from '../../journal/index.js'
import { trafficControlFor, type ControlHandle } from '../../traffic/index.js'
import {
  NotConfigured,
  type BackendTraffic,
  type FlagRow,
  type IncidentRow,
  type JournalRow,
  type PanelName,
  type QueryData,
  type RolloutData,
  type TrafficData,
} from './model.js'

export interface Sources {
  loaders: { [P in PanelName]: () => Promise<unknown> }
  close(): Promise<void>
}

/** The refresh window's numbers per backend: requests per second, error rate, p50 and p99 of its raw latencies. */
export function trafficNumbers(
  window: { backends: Array<{ pool: string; backend: string; requests: number; outcomes: Record<string, number>; latencyMs?: number[] }> },
  weights: Array<{ pool: string; backend: string; weight: number; health: { up: boolean } }>,
  windowMs: number,
): BackendTraffic[] {
  return weights.map((stat) => {
    const window_ = window.backends.find((item) => item.pool === stat.pool && item.backend === stat.backend)
    const requests = window_?.requests ?? 0
    const errors = (window_?.outcomes['5xx'] ?? 0) + (window_?.outcomes.connection ?? 0)
    const sorted = [...(window_?.latencyMs ?? [])].sort((a, b) => a - b)
    const quantile = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : undefined)
    return {
      pool: stat.pool,
      backend: stat.backend,
      weight: stat.weight,
      up: stat.health.up,
      rps: requests / (windowMs / 1000),
      errorRate: requests > 0 ? errors / requests : undefined,
      p50: quantile(0.5),
      p99: quantile(0.99),
    }
  })
}

function position(rollout: Rollout): string {
  switch (rollout.strategy) {
    case 'canary':
    case 'strangler':
      return `${rollout.canary.name} ${rollout.weight}% · ${rollout.stable.name} ${100 - rollout.weight}% · step ${Math.max(0, rollout.stepIndex) + 1}/${rollout.steps.length}`
    case 'bluegreen':
      return `${rollout.phase}: active ${rollout.active.name}, preview ${rollout.preview.name}`
    case 'rolling':
      return `${rollout.instances.filter((instance) => instance.status === 'replaced').length}/${rollout.instances.length} replaced`
  }
}

export function rolloutData(rollout: Rollout): RolloutData {
  const verdicts = 'verdicts' in rollout ? rollout.verdicts : []
  return {
    id: rollout.id,
    strategy: rollout.strategy,
    service: rollout.service,
    status: rollout.status === 'paused' && rollout.pause ? `paused (${rollout.pause.reason})` : rollout.status,
    position: position(rollout),
    verdicts: verdicts.slice(-3).map((item) => ({
      status: item.status,
      weight: item.weight,
      line: `canary ${item.canary.requests} req ${item.canary.errors} err p99 ${item.canary.p99?.toFixed(1) ?? '-'}ms · stable ${item.stable.requests} req ${item.stable.errors} err p99 ${item.stable.p99?.toFixed(1) ?? '-'}ms`,
    })),
  }
}

export function dashboardSources(settings: Settings, options: { intervalMs: number }): Sources {
  let traffic: ControlHandle | undefined
  const journalRows = async (): Promise<JournalRow[]> => {
    const store = await openJournal(settings)
    const rows: JournalEvent[] = []
    try {
      for await (const event of store.read({ since: Date.now() - 24 * 3600_000 })) {
        rows.push(event)
        if (rows.length > 50) rows.shift()
      }
    } finally {
      await store.close()
    }
    return rows
      .slice(-12)
      .reverse()
      .map((event) => ({ time: event.time, kind: event.kind, subject: event.subject, summary: summarizeEvent(event) }))
  }
  return {
    loaders: {
      async traffic(): Promise<TrafficData> {
        if (!traffic) {
          try {
            traffic = trafficControlFor(settings, {})
          } catch {
            throw new NotConfigured('no router here: start one (opsctl router start), or set router.haproxySocket')
          }
        }
        const [stats, window] = await Promise.all([traffic.control.stats(), traffic.control.samples({ windowMs: options.intervalMs })])
        return { engine: traffic.control.engine, backends: trafficNumbers(window, stats, options.intervalMs) }
      },
      async deploy(): Promise<RolloutData[]> {
        return rolloutStatus(settings, {}).rollouts.map((view) => rolloutData(view.rollout))
      },
      async flags(): Promise<FlagRow[]> {
        try {
          await access(flagsFilePath(settings))
        } catch {
          if (!process.env.UNLEASH_URL) throw new NotConfigured(`no ${flagsFilePath(settings)} (and no UNLEASH_URL)`)
        }
        const [listing, stale] = await Promise.all([listFlags({ settings }), findStale({ settings }, { codeDirs: [] })])
        const staleNames = new Set(stale.findings.map((finding) => finding.flag))
        return listing.flags.map((flag) => ({
          name: flag.name,
          environments: Object.fromEntries(flag.environments.map((environment) => [environment.name, environment.enabled])),
          stale: staleNames.has(flag.name),
          evaluations: flag.evaluations ? flag.evaluations.yes + flag.evaluations.no : undefined,
        }))
      },
      async incidents(): Promise<IncidentRow[]> {
        const listing = await listIncidents(settings, { open: true, limit: 10 })
        return listing.incidents.map((incident) => ({
          id: incident.id,
          title: incident.title,
          severity: incident.severityText,
          status: incident.status,
          openedAt: incident.openedAt,
          commander: incident.roles.commander,
          lastEntry: incident.notes.at(-1)?.message.split('\n')[0],
        }))
      },
      async queries(): Promise<QueryData> {
        // The embedded database would answer, but about nothing the service uses.
        if (!settings.config.database.url) throw new NotConfigured('no database: set database.url (or DATABASE_URL, --database-url)')
        return withActivitySource(settings, activityOptions(settings), async (source) => {
          const snapshot = await source.snapshot()
          return {
            connections: snapshot.connections ? connectionsLine(snapshot.connections) : undefined,
            waitingOnLocks: snapshot.lockTrees.reduce((sum, tree) => sum + tree.waiters, 0),
            statements: snapshot.statements.rows.slice(0, 3).map((row) => `${statementLine(row)} · ${queryText(row.query).slice(0, 60)}`),
            findings: snapshot.findings.slice(0, 3).map((finding) => finding.message),
          }
        })
      },
      journal: journalRows,
    },
    async close() {
      await traffic?.close()
    },
  }
}

/** What the keys do: the same module calls as the CLI commands, so the journal shows the same actor. */
export interface DashboardActions {
  promote(rollout: string): Promise<string>
  abort(rollout: string): Promise<string>
  killFlag(flag: string): Promise<string>
  declareIncident(title: string, severity: string): Promise<string>
  note(incident: string, message: string): Promise<string>
}

export function dashboardActions(settings: Settings): DashboardActions {
  const quiet = { log: () => {} }
  return {
    async promote(rollout) {
      return (await actOnRollout(settings, 'promote', { id: rollout, reason: 'from the dashboard' }, quiet)).message
    },
    async abort(rollout) {
      return (await actOnRollout(settings, 'abort', { id: rollout, reason: 'aborted from the dashboard' }, quiet)).message
    },
    async killFlag(flag) {
      await changeFlag({ settings }, { action: 'kill', name: flag, reason: 'killed from the dashboard' })
      return `${flag} killed`
    },
    async declareIncident(title, severity) {
      const result = await startIncident(settings, { title, severity: parseSeverity(severity) })
      return `declared ${result.incident.id}`
    },
    async note(incident, message) {
      await logIncidentNote(settings, { incident, message })
      return `note added to ${incident}`
    },
  }
}
