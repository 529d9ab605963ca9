/* @jsxRuntime automatic */
/* @jsxImportSource react */
// The pragmas keep the automatic JSX runtime when tsx compiles this outside the repository root (no tsconfig found from the working directory).
import { Box, Text } from 'ink'
import {
  age,
  connectionsLine,
  countsLine,
  headline,
  lockTreeLines,
  pgbouncerLine,
  poolLine,
  queryText,
  statementLine,
  statesLine,
  type ActivitySnapshot,
  type Finding,
  type LockTree,
} from '../../activity/index.js'

export interface ActivityViewProps {
  snapshot: ActivitySnapshot
  /** false with NO_COLOR, CI or a pipe: no color props at all. */
  colors: boolean
  /** Rows of the top-statements list (the snapshot may hold more). */
  statements?: number
}

type Tone = 'red' | 'yellow' | 'green' | 'cyan'
type Styles = { tone: (color: Tone) => { color?: Tone }; bold: { bold?: boolean }; dim: { dimColor?: boolean } }

/** Without colors no style at all (not even bold or dim): NO_COLOR and CI get plain text. */
export function activityStyles(colors: boolean): Styles {
  return { tone: (color) => (colors ? { color } : {}), bold: colors ? { bold: true } : {}, dim: colors ? { dimColor: true } : {} }
}

/** One snapshot of database activity, as the watch view and the dashboard show it. */
export function ActivityView({ snapshot, colors, statements = 5 }: ActivityViewProps) {
  const styles = activityStyles(colors)
  const { tone, bold, dim } = styles
  const { connections } = snapshot
  return (
    <Box flexDirection="column">
      <Text {...bold} wrap="truncate-end">
        Database activity · {headline(snapshot)}
      </Text>
      {connections ? (
        <Box flexDirection="column" marginTop={1}>
          <Text wrap="truncate-end">
            <Text {...bold}>Connections </Text>
            <Text {...tone(connections.usedShare >= 0.8 ? 'red' : 'green')}>{connectionsLine(connections)}</Text>
          </Text>
          <Text wrap="truncate-end"> {statesLine(connections)}</Text>
          <Text wrap="truncate-end"> by application {countsLine(connections.byApplication)}</Text>
          <Text wrap="truncate-end"> by role {countsLine(connections.byUser)}</Text>
        </Box>
      ) : null}
      {connections ? <LockChains trees={snapshot.lockTrees} styles={styles} /> : null}
      {connections && snapshot.oldestTransactions.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text {...bold}>Oldest transactions</Text>
          {snapshot.oldestTransactions.slice(0, 5).map((session) => (
            <Text key={session.pid} wrap="truncate-end">
              {' '}
              {session.pid} · {session.user ?? '?'} · {session.application || '(none)'} · {session.state} · {age(session.transactionAgeMs)}{' '}
              · <Text {...dim}>{queryText(session.query)}</Text>
            </Text>
          ))}
        </Box>
      ) : null}
      {snapshot.pool ? (
        <Box marginTop={1}>
          <Text wrap="truncate-end">
            <Text {...bold}>Service pool </Text>
            <Text {...tone(snapshot.pool.waiting > 0 ? 'red' : 'green')}>{poolLine(snapshot.pool)}</Text>
          </Text>
        </Box>
      ) : null}
      {snapshot.pgbouncer ? (
        <Box flexDirection="column" marginTop={1}>
          <Text {...bold}>PgBouncer</Text>
          {snapshot.pgbouncer.length === 0 ? <Text> no pools yet</Text> : null}
          {snapshot.pgbouncer.map((pool) => (
            <Text key={`${pool.database}/${pool.user}`} wrap="truncate-end" {...(pool.clientsWaiting > 0 ? tone('red') : {})}>
              {' '}
              {pgbouncerLine(pool)}
            </Text>
          ))}
        </Box>
      ) : null}
      <Box flexDirection="column" marginTop={1}>
        <Text {...bold}>Top statements</Text>
        {snapshot.statements.available ? (
          snapshot.statements.rows.slice(0, statements).map((row, index) => (
            <Text key={index} wrap="truncate-end">
              {' '}
              {statementLine(row)} · <Text {...dim}>{queryText(row.query)}</Text>
            </Text>
          ))
        ) : (
          <Text wrap="truncate-end" {...dim}>
            {' '}
            {snapshot.statements.reason}
            {snapshot.statements.hint ? `. Try: ${snapshot.statements.hint}` : ''}
          </Text>
        )}
      </Box>
      <Findings findings={snapshot.findings} styles={styles} />
      {snapshot.unavailable.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text {...bold}>Not shown</Text>
          {snapshot.unavailable.map((item) => (
            <Text key={item.what} wrap="truncate-end" {...tone('yellow')}>
              {' '}
              - {item.what}: {item.why}
              {item.hint ? ` Try: ${item.hint}` : ''}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  )
}

function LockChains({ trees, styles }: { trees: readonly LockTree[]; styles: Styles }) {
  const { tone, bold, dim } = styles
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text {...bold}>Lock chains</Text>
      {trees.length === 0 ? <Text {...tone('green')}> none</Text> : null}
      {trees.flatMap((tree) =>
        lockTreeLines(tree).map((line) => (
          <Box key={`${tree.root.pid}:${line.node.pid}`} flexDirection="column">
            <Text wrap="truncate-end" {...(line.prefix === '' ? tone('red') : {})}>
              {' '}
              <Text {...dim}>{line.prefix}</Text>
              {line.text}
            </Text>
            <Text wrap="truncate-end" {...dim}>
              {' '}
              {line.continuation}
              {queryText(line.node.query)}
            </Text>
          </Box>
        )),
      )}
    </Box>
  )
}

function Findings({ findings, styles }: { findings: readonly Finding[]; styles: Styles }) {
  const { tone, bold, dim } = styles
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text {...bold}>Findings ({findings.length})</Text>
      {findings.length === 0 ? <Text {...tone('green')}> none</Text> : null}
      {findings.map((finding, index) => (
        <Box key={index} flexDirection="column">
          <Text wrap="wrap">
            {' '}
            <Text {...tone(finding.severity === 'critical' ? 'red' : 'yellow')}>● {finding.severity}</Text>{' '}
            <Text {...bold}>{finding.kind}</Text> {finding.message}
          </Text>
          <Text wrap="wrap" {...dim}>
            {'   '}Try: {finding.advice}
          </Text>
        </Box>
      ))}
    </Box>
  )
}
