/**
 * The module opsctl preloads into the target (`node --require`): it reports every TCP port the
 * target starts listening on, takes heap snapshots after a forced GC when asked, samples
 * allocations for `--heap`, and turns SIGTERM/SIGINT into a normal exit when the target has no
 * handler of its own (a process killed by a signal writes no profile).
 *
 * It talks to opsctl over an extra pipe (fd 3) in JSON lines, not IPC: an IPC channel would give
 * the target a `process.send` and change how some programs behave. It is inert in worker threads
 * and in processes the target starts itself (which inherit the flag but not the pipe).
 *
 * Kept as source text and written to a temporary file, so the same file works from the
 * TypeScript sources and from dist/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const CONTROL_FD = 3
export const PARENT_ENV = 'OPSCTL_PROFILE_PARENT'
export const HEAP_OUT_ENV = 'OPSCTL_PROFILE_HEAP_OUT'
export const HEAP_INTERVAL_ENV = 'OPSCTL_PROFILE_HEAP_INTERVAL'
export const GRACE_ENV = 'OPSCTL_PROFILE_GRACE_MS'
export const SOURCE_MAPS_ENV = 'OPSCTL_PROFILE_SOURCE_MAPS'

/** Messages from the target. */
export type PreloadMessage =
  | { type: 'listening'; port: number; address: string; family: string; atUs: number }
  | { type: 'heap-snapshot'; path?: string; error?: string; heapUsed?: number }
  | { type: 'heap-profile'; path?: string; error?: string }
  | { type: 'heap-sampling'; error?: string }

/** Commands to the target. */
export type PreloadCommand = { type: 'heap-snapshot'; path: string } | { type: 'heap-restart' } | { type: 'heap-write' }

export const PRELOAD_SOURCE = `'use strict'
// opsctl profile: preloaded into the profiled process. See src/profile/preload.ts.
;(function opsctlProfilePreload() {
  const env = process.env
  if (env.${PARENT_ENV} !== String(process.ppid)) return
  try { if (!require('worker_threads').isMainThread) return } catch (_) { return }
  const fs = require('fs')
  const net = require('net')
  const v8 = require('v8')
  const os = require('os')
  const fd = ${CONTROL_FD}
  let channel
  try {
    channel = new net.Socket({ fd, readable: true, writable: true })
  } catch (_) { return }
  channel.unref()
  channel.on('error', () => {})
  const send = (message) => { try { fs.writeSync(fd, JSON.stringify(message) + '\\n') } catch (_) {} }
  const nowUs = () => Number(process.hrtime.bigint() / 1000n)

  const listen = net.Server.prototype.listen
  net.Server.prototype.listen = function opsctlListen(...args) {
    this.once('listening', () => {
      const address = this.address()
      if (address && typeof address === 'object') send({ type: 'listening', port: address.port, address: address.address, family: String(address.family), atUs: nowUs() })
    })
    return listen.apply(this, args)
  }

  let forceGc
  const collect = () => {
    try {
      if (!forceGc) { v8.setFlagsFromString('--expose-gc'); forceGc = require('vm').runInNewContext('gc') }
      forceGc(); forceGc()
    } catch (_) {}
  }

  let heap
  if (env.${HEAP_OUT_ENV}) {
    const inspector = require('inspector')
    const session = new inspector.Session()
    session.connect()
    const options = { samplingInterval: Number(env.${HEAP_INTERVAL_ENV}) || 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }
    const start = () => session.post('HeapProfiler.startSampling', options, (error) => { if (error) send({ type: 'heap-sampling', error: String(error.message || error) }) })
    let written = false
    heap = {
      restart() {
        session.post('HeapProfiler.stopSampling', () => session.post('HeapProfiler.startSampling', options, (error) => send({ type: 'heap-sampling', ...(error ? { error: String(error.message || error) } : {}) })))
      },
      write() {
        if (written) return
        written = true
        session.post('HeapProfiler.stopSampling', (error, result) => {
          if (error) return send({ type: 'heap-profile', error: String(error.message || error) })
          try { fs.writeFileSync(env.${HEAP_OUT_ENV}, JSON.stringify(result.profile)); send({ type: 'heap-profile', path: env.${HEAP_OUT_ENV} }) }
          catch (failure) { send({ type: 'heap-profile', error: String(failure.message || failure) }) }
        })
      },
    }
    start()
    process.on('exit', () => heap.write())
  }

  // inline source maps of code transpiled on the fly (tsx...): collected at exit, when enabling
  // the debugger replays every script it parsed, so it costs nothing while the profile runs
  if (env.${SOURCE_MAPS_ENV}) {
    process.on('exit', () => {
      try {
        const inspector = require('inspector')
        const session = new inspector.Session()
        session.connect()
        const table = {}
        session.on('Debugger.scriptParsed', ({ params }) => {
          const map = params.sourceMapURL
          if (!params.url || !map || !map.startsWith('data:')) return
          const comma = map.indexOf(',')
          try {
            const body = map.slice(comma + 1)
            const text = /;base64$/.test(map.slice(0, comma)) ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body)
            const payload = JSON.parse(text)
            delete payload.sourcesContent
            table[params.url] = payload
          } catch (_) {}
        })
        session.post('Debugger.enable')
        session.post('Debugger.disable')
        session.disconnect()
        fs.writeFileSync(env.${SOURCE_MAPS_ENV}, JSON.stringify(table))
      } catch (_) {}
    })
  }

  let pending = ''
  channel.setEncoding('utf8')
  channel.on('data', (chunk) => {
    pending += chunk
    let end
    while ((end = pending.indexOf('\\n')) >= 0) {
      const line = pending.slice(0, end)
      pending = pending.slice(end + 1)
      let command
      try { command = JSON.parse(line) } catch (_) { continue }
      if (command.type === 'heap-snapshot') {
        try {
          collect()
          const path = v8.writeHeapSnapshot(command.path)
          send({ type: 'heap-snapshot', path, heapUsed: process.memoryUsage().heapUsed })
        } catch (error) { send({ type: 'heap-snapshot', error: String(error.message || error) }) }
      } else if (command.type === 'heap-restart' && heap) heap.restart()
      else if (command.type === 'heap-write' && heap) heap.write()
    }
  })

  const graceMs = Number(env.${GRACE_ENV}) || 5000
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      // the target handles it itself (a graceful shutdown): let it, but not for ever
      if (process.listenerCount(signal) > 1) { setTimeout(() => process.exit(), graceMs).unref(); return }
      // the target's own exit code, in the target's process (not opsctl's): 128 + signal, as if the
      // signal had ended it, but through a normal exit so that V8 writes the profile
      process.exitCode = 128 + (os.constants.signals[signal] || 0)
      process.exit()
    })
  }
})()
`

/** Writes the preload to a fresh temporary directory; `remove()` deletes it. */
export function writePreload(): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-profile-'))
  const path = join(dir, 'preload.cjs')
  writeFileSync(path, PRELOAD_SOURCE)
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
