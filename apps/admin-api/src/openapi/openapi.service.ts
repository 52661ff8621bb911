import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { AdminApiConfig } from '../config/admin-api.config';
import { routeContractOf, routeKeyOf } from '../http/route-metadata';
import { buildOpenApiDocument, DiscoveredRoute, OpenApiDocument } from './openapi.builder';

/**
 * Every route the app serves, found through Nest's own registry (so a
 * controller cannot be missed), and the OpenAPI document built from them.
 * Built at start: a route without a contract stops the app there.
 */
@Injectable()
export class OpenApiService implements OnModuleInit {
  private document: OpenApiDocument | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly config: AdminApiConfig,
  ) {}

  onModuleInit(): void {
    this.document = buildOpenApiDocument(this.routes(), { version: this.config.version });
  }

  routes(): DiscoveredRoute[] {
    const routes: DiscoveredRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (!controller || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as object;
        const key = routeKeyOf(controller, handler);
        if (!key) continue;
        routes.push({ ...key, contract: routeContractOf(controller, handler), handler: `${controller.name}.${name}` });
      }
    }
    return routes;
  }

  current(): OpenApiDocument {
    if (!this.document) this.document = buildOpenApiDocument(this.routes(), { version: this.config.version });
    return this.document;
  }
}
