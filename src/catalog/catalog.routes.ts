import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { transaction } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { Page, PageQuery, errorResponses, pageSize } from '../http/schemas';
import {
  CreateOfferBody,
  CreatePointKindBody,
  Offer,
  OfferParams,
  PointAccount,
  PointSource,
  UpdateOfferBody,
} from './catalog.schema';
import * as service from './catalog.service';
import type { PointKindTable } from './catalog.sql';

const tags = ['Catalog'];
const ListQuery = Type.Object(PageQuery, { additionalProperties: false });
const notFound = errorResponses('offer_not_found');
const alreadyExists = errorResponses('already_exists');

export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const pointKinds: [string, PointKindTable, typeof PointAccount, string, string][] = [
    ['/v1/point-accounts', 'point_accounts', PointAccount, 'point account', 'PointAccount'],
    ['/v1/point-sources', 'point_sources', PointSource, 'point source', 'PointSource'],
  ];
  for (const [path, table, schema, noun, name] of pointKinds) {
    app.post(
      path,
      {
        config: { access: 'admin' },
        schema: {
          operationId: `create${name}`,
          tags,
          summary: `Create a ${noun}`,
          body: CreatePointKindBody,
          response: { 201: schema, ...alreadyExists },
        },
      },
      async (request, reply) => {
        const row = await transaction(app.pool, (tx) =>
          service.createPointKind(tx, auditContext(request), table, request.body),
        );
        reply.status(201);
        return row;
      },
    );

    app.get(
      path,
      {
        config: { access: 'agent' },
        schema: {
          operationId: `list${name}s`,
          tags,
          summary: `List ${noun}s`,
          querystring: ListQuery,
          response: { 200: Page(schema) },
        },
      },
      async (request) =>
        service.listPointKinds(app.pool, table, { limit: pageSize(request.query), cursor: request.query.cursor }),
    );
  }

  app.post(
    '/v1/offers',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createOffer',
        tags,
        summary: 'Create an offer',
        body: CreateOfferBody,
        response: { 201: Offer, ...alreadyExists },
      },
    },
    async (request, reply) => {
      const row = await transaction(app.pool, (tx) => service.createOffer(tx, auditContext(request), request.body));
      reply.status(201);
      return row;
    },
  );

  app.get(
    '/v1/offers',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listOffers',
        tags,
        summary: 'List offers',
        querystring: ListQuery,
        response: { 200: Page(Offer) },
      },
    },
    async (request) => service.listOffers(app.pool, { limit: pageSize(request.query), cursor: request.query.cursor }),
  );

  app.get(
    '/v1/offers/:id',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'getOffer',
        tags,
        summary: 'Get an offer',
        params: OfferParams,
        response: { 200: Offer, ...notFound },
      },
    },
    async (request) => service.getOffer(app.pool, request.params.id),
  );

  app.patch(
    '/v1/offers/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'updateOffer',
        tags,
        summary: 'Edit an offer',
        params: OfferParams,
        body: UpdateOfferBody,
        response: { 200: Offer, ...notFound },
      },
    },
    async (request) =>
      transaction(app.pool, (tx) => service.updateOffer(tx, auditContext(request), request.params.id, request.body)),
  );
};
