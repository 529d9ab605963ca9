export { describeSettings, renderSettings, type SettingsSummary } from './describe.js'
