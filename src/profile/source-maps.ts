/**
 * Positions in code transpiled on the fly (tsx, ts-node, esbuild-register) are positions in
 * generated code: with tsx every function sits on line 1. The preload collects the inline source
 * maps of the target's scripts when it exits, and profiles are mapped back to the original files
 * and lines here. Pure (node:module's SourceMap decodes; no I/O).
 */
import { SourceMap, type SourceMapPayload } from 'node:module'
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CallFrame, CpuProfile } from './cpuprofile.js'
import type { HeapProfile, HeapProfileNode } from './heap-profile.js'

/** Script URL -> its source map (sourcesContent dropped). */
export type SourceMapTable = Record<string, SourceMapPayload>

function originalUrl(source: string, scriptUrl: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source)) return source
  if (isAbsolute(source)) return pathToFileURL(source).href
  try {
    return new URL(source, scriptUrl).href
  } catch {
    return source
  }
}

export function createFrameMapper(table: SourceMapTable): (frame: CallFrame) => CallFrame {
  const maps = new Map<string, SourceMap | null>()
  const mapFor = (url: string): SourceMap | null => {
    if (!maps.has(url)) {
      const payload = table[url]
      let map: SourceMap | null = null
      try {
        map = payload ? new SourceMap(payload) : null
      } catch {
        map = null // a broken map leaves the frame as it is
      }
      maps.set(url, map)
    }
    return maps.get(url)!
  }
  return (frame) => {
    if (!frame.url || frame.lineNumber < 0) return frame
    const map = mapFor(frame.url)
    if (!map) return frame
    const entry = map.findEntry(frame.lineNumber, Math.max(0, frame.columnNumber)) as Partial<{
      originalSource: string
      originalLine: number
      originalColumn: number
    }>
    if (entry.originalSource === undefined || entry.originalLine === undefined) return frame
    return {
      ...frame,
      url: originalUrl(entry.originalSource, frame.url),
      lineNumber: entry.originalLine,
      columnNumber: entry.originalColumn ?? 0,
    }
  }
}

export function mapCpuProfile(profile: CpuProfile, table: SourceMapTable): CpuProfile {
  if (Object.keys(table).length === 0) return profile
  const map = createFrameMapper(table)
  return { ...profile, nodes: profile.nodes.map((node) => ({ ...node, callFrame: map(node.callFrame) })) }
}

export function mapHeapProfile(profile: HeapProfile, table: SourceMapTable): HeapProfile {
  if (Object.keys(table).length === 0) return profile
  const map = createFrameMapper(table)
  const copy = (node: HeapProfileNode): HeapProfileNode => ({ ...node, callFrame: map(node.callFrame), children: node.children.map(copy) })
  return { ...profile, head: copy(profile.head) }
}

/** The table the preload wrote, or an empty one when it wrote none or it cannot be read. */
export function parseSourceMapTable(text: string | undefined): SourceMapTable {
  if (!text) return {}
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as SourceMapTable) : {}
  } catch {
    return {}
  }
}
