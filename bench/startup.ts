// Start-up time of `opsctl --version` against the floor, `node -e 0`, measured in one run
// with the two commands interleaved so that machine noise hits both alike.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' })
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

export default async function run(args: string[]): Promise<string> {
  const runs = Number(args[0] ?? 30)
  if (!existsSync(`${root}/dist/commands`) || !existsSync(`${root}/oclif.manifest.json`)) {
    spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  }
  const subjects = {
    'node -e 0 (floor)': ['-e', '0'],
    'opsctl --version': ['bin/run.js', '--version'],
    'opsctl config validate': ['bin/run.js', 'config', 'validate'],
  }
  const samples = Object.fromEntries(Object.keys(subjects).map((name) => [name, [] as number[]]))
  for (const args of Object.values(subjects)) timeOnce(args) // warm the file cache
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of Object.entries(subjects)) samples[name]!.push(timeOnce(args))
  }
  const floor = [...samples['node -e 0 (floor)']!].sort((a, b) => a - b)
  const floorMedian = quantile(floor, 0.5)
  const rows = Object.entries(samples).map(([name, values]) => {
    const sorted = [...values].sort((a, b) => a - b)
    const median = quantile(sorted, 0.5)
    return `| ${name} | ${median.toFixed(1)} | ${quantile(sorted, 0.9).toFixed(1)} | ${(median / floorMedian).toFixed(2)}x |`
  })
  return [
    `${runs} interleaved runs each, wall-clock per process.`,
    '',
    '| command | median ms | p90 ms | vs floor |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n')
}
