/**
 * Local time for people; files and JSON keep ISO 8601 UTC. The zone is always shown ("UTC" or
 * the offset, "+01:00"), so a time copied from one engineer's terminal into a chat means the same
 * to everyone who reads it.
 */
export interface LocalTimeOptions {
  /** Include the date (default true); timelines within one day drop it. */
  date?: boolean
  /** Include the zone (default true); a listing that states its zone once in its header drops it. */
  zone?: boolean
}

export function formatLocalTime(at: Date | string | number, options: LocalTimeOptions = {}): string {
  const date = at instanceof Date ? at : new Date(at)
  if (Number.isNaN(date.getTime())) return String(at)
  const pad = (value: number) => String(value).padStart(2, '0')
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
  const parts = [options.date === false ? undefined : day, time, options.zone === false ? undefined : localZone(date)]
  return parts.filter(Boolean).join(' ')
}

/** "UTC" where the local offset is zero, else "+hh:mm" / "-hh:mm". */
export function localZone(date: Date = new Date()): string {
  const minutesEast = -date.getTimezoneOffset()
  if (minutesEast === 0) return 'UTC'
  const sign = minutesEast > 0 ? '+' : '-'
  const abs = Math.abs(minutesEast)
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}
