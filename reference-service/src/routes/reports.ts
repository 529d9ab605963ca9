import type { FastifyPluginAsync } from 'fastify'
import { aggregateRevenueByProductAndMonth } from '../revenue.js'
import { fetchProductNames, fetchRevenueRows } from '../store/revenue.js'

export interface ReportsRoutesOptions {
  /** FAULT_REPORT_CPU: how many times the aggregation does its per-row work (1 = normal). */
  cpuFactor?: number
}

const DEFAULT_TOP = 10
const MAX_TOP = 1000

export const reportsRoutes: FastifyPluginAsync<ReportsRoutesOptions> = async (app, { cpuFactor = 1 }) => {
  app.get<{ Querystring: { top?: string } }>('/reports/revenue', async (request, reply) => {
    const top = request.query.top === undefined ? DEFAULT_TOP : Number(request.query.top)
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', message: `top must be an integer from 1 to ${MAX_TOP}, got "${request.query.top}"` })
    }
    const report = aggregateRevenueByProductAndMonth(await fetchRevenueRows(request.db), { cpuFactor })
    const topProducts = report.products.slice(0, top)
    const names = await fetchProductNames(
      request.db,
      topProducts.map((product) => product.productId),
    )
    return {
      rows: report.rows,
      months: report.months,
      productCount: report.products.length,
      topProducts: topProducts.map(({ productId, ...rest }) => ({ productId, productName: names.get(productId) ?? null, ...rest })),
    }
  })
}
