/* @jsxRuntime automatic */
/* @jsxImportSource react */
// The pragmas keep the automatic JSX runtime when tsx compiles this outside the repository root.
import { Box, Text, useApp, useInput } from 'ink'
import { useRef, useState, type ReactNode } from 'react'
import type { DashboardActions } from './sources.js'
import { PANELS, sparkline, staleAge, type DashboardData, type PanelName, type SourceState } from './model.js'

export interface DashboardProps {
  data: DashboardData
  actions: DashboardActions
  colors: boolean
  /** Terminal size; the layout fits 80×24 and grows with it. */
  columns?: number
  rows?: number
  now?: () => number
  onExit?: (reason: 'quit' | 'interrupted') => void
}

type Prompt =
  | { kind: 'confirm'; question: string; run: () => Promise<string> }
  | { kind: 'text'; label: string; value: string; submit: (value: string) => void }

interface UiState {
  focus: PanelName
  selected: Record<PanelName, number>
  prompt: Prompt | undefined
  message: string | undefined
  filter: string
  help: boolean
}

const INITIAL_UI: UiState = {
  focus: 'traffic',
  selected: { traffic: 0, deploy: 0, flags: 0, incidents: 0, queries: 0, journal: 0 },
  prompt: undefined,
  message: undefined,
  filter: '',
  help: false,
}

const TITLES: Record<PanelName, string> = {
  traffic: 'Traffic',
  deploy: 'Deploy',
  flags: 'Flags',
  incidents: 'Incidents',
  queries: 'Queries',
  journal: 'Journal',
}

const HELP = [
  'Tab / Shift-Tab  move focus between panels     ↑ ↓  select in the focused panel',
  'p  promote the rollout (asks)                  a  abort the rollout (asks)',
  'f  kill the selected flag (asks)               i  declare an incident (title, severity)',
  'n  add a note to the selected incident         /  filter the lists (Esc clears)',
  '?  this help                                   q  quit',
]

/** A source's last answer, live or stale. */
const dataOf = <T,>(state: SourceState<T>): T | undefined => (state.status === 'live' || state.status === 'stale' ? state.data : undefined)

const fixed = (value: number | undefined, digits = 1) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits))

/** The on-call screen: six panels from the modules, and keys that act through the same module calls as the CLI. */
export function Dashboard({ data, actions, colors, columns = 80, rows = 24, now = Date.now, onExit }: DashboardProps) {
  const { exit } = useApp()
  // Keys read the interface state from a ref: a key typed right after another must see what the
  // first one did, even before React has re-rendered (a fast typist, or a test).
  const [ui, setUi] = useState<UiState>(INITIAL_UI)
  const uiRef = useRef(ui)
  const update = (patch: Partial<UiState>) => {
    uiRef.current = { ...uiRef.current, ...patch }
    setUi(uiRef.current)
  }
  const { focus, prompt, message, filter, help } = ui
  const setPrompt = (value: Prompt | undefined) => update({ prompt: value })
  const setMessage = (value: string | undefined) => update({ message: value })
  const color = (name: string) => (colors ? { color: name } : {})
  const dim = colors ? { dimColor: true } : {}

  const matches = (text: string) => !uiRef.current.filter || text.toLowerCase().includes(uiRef.current.filter.toLowerCase())
  const rollouts = dataOf(data.deploy) ?? []
  const flags = (dataOf(data.flags) ?? []).filter((flag) => matches(flag.name))
  const incidents = (dataOf(data.incidents) ?? []).filter((incident) => matches(`${incident.id} ${incident.title}`))
  const traffic = dataOf(data.traffic)
  const queries = dataOf(data.queries)
  const journal = dataOf(data.journal)
  const pick = <T,>(list: readonly T[], panel: PanelName): T | undefined =>
    list[Math.min(uiRef.current.selected[panel], Math.max(0, list.length - 1))]

  const act = (work: () => Promise<string>) => {
    setMessage('…')
    work().then(
      (answer) => setMessage(answer),
      (error: Error) => setMessage(`failed: ${error.message}`),
    )
  }
  const confirm = (question: string, run: () => Promise<string>) => setPrompt({ kind: 'confirm', question, run })
  const ask = (label: string, submit: (value: string) => void) => setPrompt({ kind: 'text', label, value: '', submit })

  useInput((input, key) => {
    const { focus, selected, prompt, filter, help } = uiRef.current
    if (key.ctrl && input === 'c') {
      onExit?.('interrupted')
      exit()
      return
    }
    if (prompt?.kind === 'confirm') {
      const chosen = prompt
      setPrompt(undefined)
      if (input === 'y' || input === 'Y') act(chosen.run)
      else setMessage('cancelled: nothing changed')
      return
    }
    if (prompt?.kind === 'text') {
      if (key.escape) {
        setPrompt(undefined)
        setMessage('cancelled: nothing changed')
      } else if (key.return) {
        setPrompt(undefined)
        prompt.submit(prompt.value)
      } else if (key.backspace || key.delete) setPrompt({ ...prompt, value: prompt.value.slice(0, -1) })
      else if (input && !key.ctrl && !key.meta) setPrompt({ ...prompt, value: prompt.value + input })
      return
    }
    if (help) {
      update({ help: false })
      return
    }
    if (key.tab) {
      const index = PANELS.indexOf(focus)
      update({ focus: PANELS[(index + (key.shift ? PANELS.length - 1 : 1)) % PANELS.length]! })
    } else if (key.upArrow || key.downArrow) {
      update({ selected: { ...selected, [focus]: Math.max(0, selected[focus] + (key.downArrow ? 1 : -1)) } })
    } else if (input === 'q' || key.escape) {
      if (key.escape && filter) {
        update({ filter: '' })
        return
      }
      onExit?.('quit')
      exit()
    } else if (input === '?') update({ help: true })
    else if (input === '/') ask('filter', (value) => update({ filter: value.trim() }))
    else if (input === 'p' || input === 'a') {
      const rollout = pick(rollouts, 'deploy')
      if (!rollout) setMessage('no rollout is running')
      else if (input === 'p') confirm(`Promote ${rollout.id} (${rollout.position})?`, () => actions.promote(rollout.id))
      else confirm(`Abort ${rollout.id}: all traffic back to the old version?`, () => actions.abort(rollout.id))
    } else if (input === 'f') {
      const flag = pick(flags, 'flags')
      if (!flag) setMessage('no flag selected (Tab to Flags, ↑ ↓)')
      else confirm(`Kill flag ${flag.name} (off in every environment)?`, () => actions.killFlag(flag.name))
    } else if (input === 'i') {
      ask('incident title', (title) => {
        if (!title.trim()) return setMessage('cancelled: no title')
        ask('severity (1–5 or critical, major, minor, low, informational)', (severity) =>
          act(() => actions.declareIncident(title.trim(), severity.trim() || '3')),
        )
      })
    } else if (input === 'n') {
      const incident = pick(incidents, 'incidents')
      if (!incident) setMessage('no open incident selected (Tab to Incidents, ↑ ↓)')
      else
        ask(`note for ${incident.id}`, (note) =>
          note.trim() ? act(() => actions.note(incident.id, note.trim())) : setMessage('cancelled: empty note'),
        )
    }
  })

  const half = Math.floor(columns / 2)
  const extra = Math.max(0, rows - 24)
  const panel = (name: PanelName, width: number, height: number, body: () => ReactNode) => {
    const state = data[name]
    const age = staleAge(state, now())
    const status =
      state.status === 'live' ? (
        <Text {...color('green')}>live</Text>
      ) : state.status === 'stale' ? (
        <Text {...color('yellow')}>stale{age ? ` ${age}` : ''}</Text>
      ) : state.status === 'unconfigured' ? (
        <Text {...dim}>not configured</Text>
      ) : (
        <Text {...dim}>loading</Text>
      )
    return (
      <Box
        key={name}
        flexDirection="column"
        width={width}
        height={height}
        borderStyle="round"
        {...(colors ? { borderColor: focus === name ? 'cyan' : 'gray' } : {})}
        paddingX={1}
        overflow="hidden"
      >
        <Text wrap="truncate-end">
          <Text bold={colors}>{focus === name ? `▸ ${TITLES[name]}` : TITLES[name]}</Text> · {status}
        </Text>
        {state.status === 'unconfigured' ? (
          <Text {...dim} wrap="truncate-end">
            {state.reason}
          </Text>
        ) : null}
        {state.status === 'stale' ? (
          <Text {...color('yellow')} wrap="truncate-end">
            {state.error}
          </Text>
        ) : null}
        {body()}
      </Box>
    )
  }
  const line = (text: string, key: string | number, props: Record<string, unknown> = {}) => (
    <Text key={key} wrap="truncate-end" {...props}>
      {text}
    </Text>
  )

  if (help)
    return (
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        <Text bold={colors}>opsctl dashboard · keys (any key closes)</Text>
        {HELP.map((text, index) => line(text, index))}
      </Box>
    )

  return (
    <Box flexDirection="column" width={columns}>
      <Text wrap="truncate-end">
        <Text bold={colors}>opsctl dashboard</Text>
        <Text {...dim}>
          {' '}
          · {new Date(now()).toLocaleTimeString()} · Tab focus · ? help · q quit{filter ? ` · filter "${filter}"` : ''}
        </Text>
      </Text>
      {panel('traffic', columns, 6, () =>
        traffic
          ? traffic.backends.slice(0, 3).map((backend) => {
              const history = data.history[`${backend.pool}/${backend.backend}`]
              return line(
                `${backend.backend.padEnd(10).slice(0, 10)} ${String(backend.weight).padStart(3)}% ${backend.up ? ' ' : '✗'} ${fixed(backend.rps).padStart(6)} rps ${sparkline(history?.rps ?? [], 12)} err ${backend.errorRate === undefined ? '  -  ' : `${(backend.errorRate * 100).toFixed(1)}%`.padStart(5)} p50 ${fixed(backend.p50).padStart(5)} p99 ${fixed(backend.p99).padStart(6)}ms ${sparkline(history?.p99 ?? [], 12)}`,
                backend.backend,
              )
            })
          : null,
      )}
      <Box>
        {panel('deploy', half, 6, () =>
          rollouts.length === 0 && data.deploy.status === 'live'
            ? line('no rollout running', 'none', dim)
            : rollouts
                .slice(0, 1)
                .flatMap((rollout) => [
                  line(`${rollout.id} ${rollout.strategy}: ${rollout.status}`, 'head'),
                  line(rollout.position, 'position'),
                  ...rollout.verdicts
                    .slice(-1)
                    .map((verdict, index) =>
                      line(
                        `${verdict.status} at ${verdict.weight}%: ${verdict.line}`,
                        index,
                        color(verdict.status === 'pass' ? 'green' : 'red'),
                      ),
                    ),
                ]),
        )}
        {panel('flags', columns - half, 6, () => {
          const list = flags.slice(0, 3)
          if (list.length === 0) return data.flags.status === 'live' ? line(filter ? 'no flag matches' : 'no flags', 'none', dim) : null
          const chosen = pick(flags, 'flags')
          return list.map((flag) =>
            line(
              `${flag === chosen && focus === 'flags' ? '›' : ' '} ${flag.name} ${Object.entries(flag.environments)
                .map(([name, on]) => `${name.slice(0, 4)}:${on ? 'on' : 'off'}`)
                .join(' ')}${flag.stale ? ' STALE' : ''}${flag.evaluations !== undefined ? ` ${flag.evaluations} evals` : ''}`,
              flag.name,
            ),
          )
        })}
      </Box>
      <Box>
        {panel('incidents', half, 6, () => {
          if (incidents.length === 0) return data.incidents.status === 'live' ? line('no open incident', 'none', dim) : null
          const chosen = pick(incidents, 'incidents')
          return incidents
            .slice(0, 3)
            .map((incident) =>
              line(
                `${incident === chosen && focus === 'incidents' ? '›' : ' '} ${incident.severity} ${incident.id} ${incident.status} · ${incident.title}${incident.commander ? ` · IC ${incident.commander}` : ''}${incident.lastEntry ? ` · ${incident.lastEntry}` : ''}`,
                incident.id,
                color(incident.severity === 'SEV1' ? 'red' : 'yellow'),
              ),
            )
        })}
        {panel('queries', columns - half, 6, () => {
          if (!queries) return null
          return [
            line(
              `${queries.connections ?? 'connections: -'}${queries.waitingOnLocks ? ` · ${queries.waitingOnLocks} waiting on locks` : ''}`,
              'c',
            ),
            ...queries.findings.slice(0, 1).map((text, index) => line(text, `f${index}`, color('yellow'))),
            ...queries.statements.slice(0, 2).map((text, index) => line(text, `s${index}`)),
          ]
        })}
      </Box>
      {panel('journal', columns, 4 + extra, () =>
        journal
          ? journal
              .filter((row) => matches(`${row.kind} ${row.subject} ${row.summary}`))
              .slice(0, 1 + extra) // the panel's height less its border and title
              .map((row, index) => line(`${new Date(row.time).toLocaleTimeString()} ${row.kind} ${row.subject}: ${row.summary}`, index))
          : null,
      )}
      {prompt ? (
        <Text {...color('cyan')} wrap="truncate-end">
          {prompt.kind === 'confirm' ? `${prompt.question} (y/N)` : `${prompt.label}: ${prompt.value}▏ (Enter, Esc cancels)`}
        </Text>
      ) : (
        <Text {...dim} wrap="truncate-end">
          {message ?? 'p promote · a abort · f kill flag · i incident · n note · / filter'}
        </Text>
      )}
    </Box>
  )
}
