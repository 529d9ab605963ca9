/** `opsctl postmortem`: read the incident and its window from the journal, build, render, write. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { badInput, redactText, systemClock, type Clock, type Settings } from '../core/index.js'
import { openJournal, type JournalEvent } from '../journal/index.js'
import { renderHtml, renderMarkdown } from './document.js'
import { readIncidents, selectIncident } from './incidents.js'
import { buildPostmortem, postmortemBlocks, postmortemTitle, postmortemWindow, type Postmortem } from './postmortem.js'
import { displayPath } from './runbooks.js'

export const POSTMORTEM_FORMATS = ['md', 'json', 'html'] as const
export type PostmortemFormat = (typeof POSTMORTEM_FORMATS)[number]

export interface PostmortemRequest {
  incident: string
  format: PostmortemFormat
  /** Write here instead of stdout; an existing file is kept unless `force` (it may hold the team's edits). */
  out?: string
  force?: boolean
  leadInMs: number
}

export interface PostmortemOutput {
  postmortem: Postmortem
  text: string
  file?: string
}

export async function generatePostmortem(settings: Settings, request: PostmortemRequest, clock: Clock = systemClock): Promise<PostmortemOutput> {
  const target = request.out ? resolve(request.out) : undefined
  if (target && existsSync(target) && !request.force) {
    throw badInput(`${request.out} already exists`, 'It may hold the team\'s edits: write to another file, or pass --force to replace it.')
  }
  const now = clock.now().toISOString()
  const store = await openJournal(settings)
  let postmortem: Postmortem
  try {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const window = postmortemWindow(incident, request.leadInMs, now)
    const events: JournalEvent[] = []
    for await (const event of store.read({ since: Date.parse(window.from), until: Date.parse(window.to) + 1 })) events.push(event)
    postmortem = buildPostmortem(incident, events, { generatedAt: now, leadInMs: request.leadInMs })
  } finally {
    await store.close()
  }
  const text = redactText(renderPostmortem(postmortem, request.format))
  if (target) {
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, text)
    return { postmortem, text, file: displayPath(target) }
  }
  return { postmortem, text }
}

export function renderPostmortem(postmortem: Postmortem, format: PostmortemFormat): string {
  if (format === 'json') return `${JSON.stringify(postmortem, null, 2)}\n`
  const blocks = postmortemBlocks(postmortem)
  return format === 'html' ? renderHtml(blocks, postmortemTitle(postmortem)) : renderMarkdown(blocks)
}
