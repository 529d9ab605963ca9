import { configLeaves, redactValue, type Palette, type Settings } from '../core/index.js'

export interface SettingsSummary {
  configPath: string | null
  stateDir: string
  config: Settings['config']
  keys: Array<{ key: string; env: string; value: unknown }>
}

/** The effective configuration with the variable that overrides each key; secrets redacted. */
export function describeSettings(settings: Settings): SettingsSummary {
  const config = redactValue(settings.config)
  const keys = configLeaves().map((leaf) => ({
    key: leaf.path.join('.'),
    env: leaf.env,
    value: leaf.path.reduce<unknown>((value, segment) => (value as Record<string, unknown> | undefined)?.[segment], config),
  }))
  return { configPath: settings.configPath ?? null, stateDir: settings.stateDir, config, keys }
}

export function renderSettings(summary: SettingsSummary, colors: Palette): string {
  const width = Math.max(...summary.keys.map((entry) => entry.key.length))
  const lines = [
    `${colors.bold('config')}  ${summary.configPath ?? '(none found; defaults)'}`,
    `${colors.bold('state')}   ${summary.stateDir}`,
    '',
    ...summary.keys.map(
      (entry) =>
        `${entry.key.padEnd(width)}  ${entry.value === undefined ? colors.dim('(unset)') : JSON.stringify(entry.value)}  ${colors.dim(entry.env)}`,
    ),
  ]
  return lines.join('\n')
}
