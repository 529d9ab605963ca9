/** `opsctl postmortem`: read the incident and its window from the journal, build, redact, render, write. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { badInput, parseDuration, redactValue, systemClock, type Clock, type Settings } from '../core/index.js'
import { openJournal, type JournalEvent } from '../journal/index.js'
import { readIncidents, selectIncident } from './incidents.js'
import { buildPostmortem, postmortemWindow, type Postmortem } from './postmortem-model.js'
import { renderPostmortem, type PostmortemFormat } from './postmortem-render.js'
import { displayPath } from './runbooks.js'

export interface PostmortemRequest {
  incident: string
  format: PostmortemFormat
  /** Write here instead of stdout; an existing file is kept unless `force` (it may hold the team's edits). */
  out?: string
  force?: boolean
  /** Default: the config key incident.postmortemLeadIn. */
  leadInMs?: number
}

export interface PostmortemOutput {
  /** Redacted: what every format was rendered from. */
  postmortem: Postmortem
  text: string
  file?: string
}

export async function generatePostmortem(
  settings: Settings,
  request: PostmortemRequest,
  clock: Clock = systemClock,
): Promise<PostmortemOutput> {
  const target = request.out ? resolve(request.out) : undefined
  if (target && existsSync(target) && !request.force) {
    throw badInput(`${request.out} already exists`, "It may hold the team's edits: write to another file, or pass --force to replace it.")
  }
  const now = clock.now().toISOString()
  const leadInMs = request.leadInMs ?? parseDuration(settings.config.incident.postmortemLeadIn, 'incident.postmortemLeadIn')
  const store = await openJournal(settings)
  let built: Postmortem
  try {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const window = postmortemWindow(incident, leadInMs, now)
    const events: JournalEvent[] = []
    for await (const event of store.read({ since: Date.parse(window.from), until: Date.parse(window.to) + 1 })) events.push(event)
    built = buildPostmortem(incident, events, { generatedAt: now, leadInMs })
  } finally {
    await store.close()
  }
  const { postmortem, text } = postmortemDocument(built, request.format)
  if (target) {
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, text)
    return { postmortem, text, file: displayPath(target) }
  }
  return { postmortem, text }
}

/** Redact the data, then render: each format escapes for itself, and the finished document is never rewritten. */
export function postmortemDocument(built: Postmortem, format: PostmortemFormat): { postmortem: Postmortem; text: string } {
  const postmortem = redactValue(built)
  return { postmortem, text: renderPostmortem(postmortem, format) }
}
