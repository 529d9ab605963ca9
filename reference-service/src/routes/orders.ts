import type { FastifyPluginAsync } from 'fastify'
import { FLAG_ORDERS_EAGER_LOADING, type FlagProvider } from '../flags.js'
import { createOrder, listOrdersWithItems, userExists, type OrderLine } from '../store/orders.js'
import { MAX_ID, parseId } from './ids.js'

export interface OrdersRoutesOptions {
  flags: FlagProvider
}

interface CreateOrderBody {
  userId: number
  items: OrderLine[]
}

const createOrderBodySchema = {
  type: 'object',
  required: ['userId', 'items'],
  additionalProperties: false,
  properties: {
    userId: { type: 'integer', minimum: 1, maximum: MAX_ID },
    items: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['productId', 'quantity'],
        additionalProperties: false,
        properties: {
          productId: { type: 'integer', minimum: 1, maximum: MAX_ID },
          quantity: { type: 'integer', minimum: 1, maximum: 1000 },
        },
      },
    },
  },
} as const

export const ordersRoutes: FastifyPluginAsync<OrdersRoutesOptions> = async (app, { flags }) => {
  app.get<{ Params: { id: string } }>('/users/:id/orders', async (request, reply) => {
    const userId = parseId(request.params.id)
    if (userId === undefined) {
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', message: `user id must be a positive integer, got "${request.params.id}"` })
    }
    if (!(await userExists(request.db, userId))) {
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no user ${userId}` })
    }
    const eagerLoading = flags.isEnabled(FLAG_ORDERS_EAGER_LOADING, { userId: String(userId) })
    const orders = await listOrdersWithItems(request.db, userId, { eagerLoading })
    return { userId, orders }
  })

  // Unknown users or products answer 422 (the JSON is valid, what it names is not); the error
  // handler maps UnknownReferenceError, thrown from inside the transaction after the rollback.
  app.post<{ Body: CreateOrderBody }>('/orders', { schema: { body: createOrderBodySchema } }, async (request, reply) => {
    const order = await createOrder(request.db, request.body.userId, request.body.items)
    return reply.code(201).send(order)
  })
}
