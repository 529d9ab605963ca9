// Ink components: the live terminal views. Commands render them; the dashboard composes them.
export { ActivityView, type ActivityViewProps } from './activity/ActivityView.js'
export { ActivityWatch, type ActivityWatchProps } from './activity/ActivityWatch.js'
export { runActivityWatch, type ActivityWatchOptions, type ActivityWatchOutcome } from './activity/watch.js'
export { Dashboard, type DashboardProps } from './main/Dashboard.js'
export { runDashboard } from './main/live.js'
export { collectOnce, renderSnapshot } from './main/snapshot.js'
export { dashboardActions, dashboardSources } from './main/sources.js'
