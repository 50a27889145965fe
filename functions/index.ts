/**
 * Entry point of the Azure Functions app (package.json "main"): registers every route of the table
 * with `app.http` under /api, the web app as the catch-all route at the site root (host.json sets
 * routePrefix to "" so both share one origin), and the retraining timer with `app.timer`.
 * Registration is all that happens at import: settings are read, clients created and the model
 * loaded on the first invocation that needs them.
 */
import azureFunctions from '@azure/functions';
import { createHttpHandler } from './http.ts';
import { platformAuthEnabled } from './identity.ts';
import { RETRAIN_SCHEDULE_BINDING, retrainTimer } from './retrainTimer.ts';
import { routes } from './routes.ts';
import { lazyServices } from './services.ts';
import { API_PREFIX } from './routeTemplate.ts';
import { webAppHandler } from './webApp.ts';

const { app } = azureFunctions;

const services = lazyServices();
const trustIdentityHeaders = () => platformAuthEnabled();

for (const route of routes) {
  app.http(route.name, {
    methods: route.methods,
    route: `${API_PREFIX}/${route.route}`,
    // Function keys are not the access control here: the catalogue is public and /me* checks the
    // Easy Auth principal.
    authLevel: 'anonymous',
    handler: createHttpHandler(route, { services, trustIdentityHeaders }),
  });
}

// Literal routes outrank a catch-all in the host, so this only gets what no API route takes.
app.http('webApp', { methods: ['GET', 'HEAD'], route: '{*path}', authLevel: 'anonymous', handler: webAppHandler });

app.timer('retrainTimer', { schedule: RETRAIN_SCHEDULE_BINDING, handler: retrainTimer });
