// The shape of an API handler: it translates one HTTP request into a service call and back.
import type { Request, Response } from 'express';
import type { Context } from 'openapi-backend';
import type { Platform } from '../platform/platform.ts';
import type { Principal } from '../access/api-keys.ts';

/** What every handler gets: the platform, the authenticated principal and paging helpers. */
export interface HandlerContext {
  platform: Platform;
  principal: Principal;
  tenantId: string;
  requestId: string;
  page(): { page: number; perPage: number };
}

export type ApiHandler = (c: Context, h: HandlerContext, req: Request, res: Response) => Promise<unknown> | unknown;
