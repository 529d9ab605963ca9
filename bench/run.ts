// npm run bench -- NAME [args...]: runs bench/NAME.ts and prints its Markdown results,
// headed with the date, machine and commit, ready to paste into bench/RESULTS.md.
import { execSync } from 'node:child_process'
import { cpus } from 'node:os'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const [name, ...args] = process.argv.slice(2)
const available = readdirSync(fileURLToPath(new URL('.', import.meta.url)))
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.endsWith('.d.ts'))
  .map((file) => file.replace(/\.ts$/, ''))

if (!name || !available.includes(name)) {
  console.error(`Usage: npm run bench -- NAME [args]\nBenchmarks: ${available.join(', ')}`)
  process.exit(2)
}

const bench = (await import(`./${name}.ts`)) as { default: (args: string[]) => Promise<string> }
const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim()
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`
const body = await bench.default(args)
console.log(`### ${name} — ${new Date().toISOString().slice(0, 10)}, commit ${commit}\n\n${machine}\n\n${body}`)
