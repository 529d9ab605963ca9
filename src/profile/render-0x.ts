/**
 * 0x's interactive flame graph from a V8 .cpuprofile (`0x --visualize-cpu-profile`). 0x runs in a
 * child process: it bundles its viewer with browserify and writes progress to the terminal, and
 * neither belongs in opsctl's process or on its stdout. Adapter.
 *
 * Why not 0x's own capture (`0x -- node app.js`, which profiles with `--prof`): V8 stops writing
 * `--prof` ticks while a CPU profiler runs, so one process cannot give both 0x's log and a
 * `.cpuprofile`; the `.cpuprofile` is the one the issue asks to stay accurate, and 0x renders it.
 */
import { execFile } from 'node:child_process'
import { existsSync, renameSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'

export interface RenderResult {
  ok: boolean
  /** Why 0x could not render, when it could not. */
  reason?: string
}

export function zeroXEntry(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('0x/cmd.js')
  } catch {
    return undefined
  }
}

/** Writes `<dir of cpuprofile>/<name>.html`. Never throws: the caller falls back to opsctl's own flame graph. */
export function renderWith0x(cpuprofile: string, options: { name: string; title: string; timeoutMs?: number }): Promise<RenderResult> {
  const entry = zeroXEntry()
  if (!entry) return Promise.resolve({ ok: false, reason: '0x is not installed' })
  const dir = dirname(cpuprofile)
  const target = join(dir, `${options.name}.html`)
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry, '--visualize-cpu-profile', basename(cpuprofile), '--name', options.name, '--title', options.title],
      { cwd: dir, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, _stdout, stderr) => {
        if (error) {
          const detail = (stderr || error.message).trim().split('\n').filter(Boolean).slice(-3).join(' ')
          return resolve({ ok: false, reason: `0x failed: ${detail}` })
        }
        // 0x names the file after --name in the profile's directory; make sure it is there
        if (!existsSync(target)) {
          const fallback = join(dir, 'flamegraph.html')
          if (existsSync(fallback) && fallback !== target) renameSync(fallback, target)
        }
        resolve(existsSync(target) ? { ok: true } : { ok: false, reason: `0x finished but wrote no ${basename(target)}` })
      },
    )
  })
}
