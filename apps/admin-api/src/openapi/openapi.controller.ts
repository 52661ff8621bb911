import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { ApiError } from '../http/api-error';
import { ApiRoute } from '../http/route-contract';
import { OpenApiService } from './openapi.service';

// swagger-ui-dist is an npm package of static files; it stays external to the bundle and is read from where npm put it.
const swaggerUiDist = require('swagger-ui-dist') as { getAbsoluteFSPath(): string };

/** The only files of swagger-ui-dist the page needs; nothing else of the package is served. */
const UI_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>IdentityMesh Admin API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/initializer.js"></script>
</body>
</html>
`;

// A file rather than an inline script, so the page runs under a CSP without 'unsafe-inline' scripts.
const UI_INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/api/docs.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false });
});
`;

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const assetParams = z.strictObject({ file: z.enum(['initializer.js', ...Object.keys(UI_ASSETS)] as [string, ...string[]]) });

/** The API's own description: the OpenAPI document and a browsable page over it (swagger-ui). */
@Controller('api')
export class OpenApiController {
  private readonly assets = new Map<string, Buffer>();

  constructor(private readonly openApi: OpenApiService) {}

  @Get('docs.json')
  @Header('Cache-Control', 'no-store')
  @ApiRoute({
    summary: 'This OpenAPI document',
    tag: 'docs',
    access: { public: 'the description of the API holds no data, and clients and the page below read it before signing in' },
    responses: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } },
  })
  document(): Record<string, unknown> {
    return this.openApi.current();
  }

  @Get('docs')
  @ApiRoute({
    summary: 'A browsable page over the OpenAPI document (swagger-ui)',
    tag: 'docs',
    access: { public: 'a page of the public API description' },
    responses: { 200: { description: 'HTML', schema: z.string(), contentType: 'text/html' } },
  })
  page(@Res() res: Response): void {
    res.setHeader('Content-Security-Policy', CSP);
    res.type('text/html; charset=utf-8').send(UI_PAGE);
  }

  @Get('docs/assets/:file')
  @ApiRoute({
    summary: 'The static files of the swagger-ui page',
    tag: 'docs',
    access: { public: 'static files of the public API description page' },
    params: assetParams,
    responses: { 200: { description: 'CSS or JavaScript', schema: z.string(), contentType: 'text/javascript' } },
  })
  asset(@Param() params: z.output<typeof assetParams>, @Res() res: Response): void {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    if (params.file === 'initializer.js') {
      res.type('text/javascript; charset=utf-8').send(UI_INITIALIZER);
      return;
    }
    const type = UI_ASSETS[params.file];
    if (!type) throw new ApiError('NOT_FOUND', `there is no file ${params.file}`);
    let body = this.assets.get(params.file);
    if (!body) {
      body = readFileSync(join(swaggerUiDist.getAbsoluteFSPath(), params.file));
      this.assets.set(params.file, body);
    }
    res.type(type).send(body);
  }
}
