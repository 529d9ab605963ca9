export { describeSettings, renderSettings } from './describe.js'
