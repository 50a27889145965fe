// Function App on the Flex Consumption plan (Linux, Node 22) serving
// generation and recommendations under /api and the web app (web/dist) at /,
// on one origin. Identity-based everything: no keys, connection strings or
// secrets in app settings.

import { resourceTags } from 'types.bicep'

@description('Function App name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan; the site additionally gets azd-service-name.')
param tags resourceTags

@description('azd service name (azure.yaml) used to find the site at deploy time.')
param serviceName string = 'api'

@description('Name of the user-assigned managed identity (same resource group) the app runs as.')
param identityName string

@description('Storage account used for AzureWebJobsStorage (identity-based).')
param storageAccountName string

@description('Blob endpoint of that account (MODEL_STORAGE_ACCOUNT_URL).')
param storageBlobEndpoint string

@description('URL of the blob container holding the deployment package.')
param deploymentContainerUrl string

@description('Models container name.')
param modelContainerName string

@description('Corpus container name.')
param corpusContainerName string

@description('Cosmos DB document endpoint.')
param cosmosEndpoint string

@description('Cosmos DB database name.')
param cosmosDatabaseName string

@description('Application Insights component name (same resource group).')
param applicationInsightsName string

@description('Resource id of the training Container Apps Job.')
param trainingJobResourceId string

@description('Seconds between checks for a newer model version.')
param modelRefreshSeconds int

@description('NCRONTAB (6 fields, UTC) retrain schedule for the timer trigger.')
param retrainSchedule string

@description('Instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Maximum number of instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Always-ready instances for HTTP triggers (0 = scale to zero).')
@minValue(0)
@maxValue(20)
param alwaysReadyInstances int

@description('Entra ID application (client) id for App Service Authentication; empty = not configured.')
param authClientId string

@description('Absolute URLs allowed as post-login/logout redirect targets besides the app\'s own origin (checked for wildcards by main.bicep).')
param authAllowedRedirectUrls string[]

@description('Origins allowed to call the app cross-origin; never "*" (checked by main.bicep). Empty = no cross-origin callers.')
param corsAllowedOrigins string[]

// Generation is CPU-bound (a few ms of one core per tracklist): a low per-instance HTTP
// concurrency makes Flex Consumption scale out instead of queueing requests on one instance.
@description('Maximum concurrent HTTP invocations per instance before the platform scales out.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var identityClientId = identity.properties.clientId
var authEnabled = !empty(authClientId)

var appSettings = [
  // Identity-based host storage: no AzureWebJobsStorage connection string.
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  // The App Insights connection string only locates the component
  // (instrumentation key + ingestion endpoint). With DisableLocalAuth it is
  // not a credential: ingestion requires the Entra token described below.
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'MODEL_STORAGE_ACCOUNT_URL'
    value: storageBlobEndpoint
  }
  {
    name: 'MODEL_CONTAINER'
    value: modelContainerName
  }
  {
    name: 'CORPUS_CONTAINER'
    value: corpusContainerName
  }
  {
    name: 'COSMOS_ENDPOINT'
    value: cosmosEndpoint
  }
  {
    name: 'COSMOS_DATABASE'
    value: cosmosDatabaseName
  }
  {
    name: 'MODEL_REFRESH_SECONDS'
    value: string(modelRefreshSeconds)
  }
  {
    name: 'RETRAIN_SCHEDULE'
    value: retrainSchedule
  }
  {
    name: 'TRAINING_JOB_RESOURCE_ID'
    value: trainingJobResourceId
  }
  {
    name: 'AUTH_ENABLED'
    value: authEnabled ? 'true' : 'false'
  }
  // Same comma-separated list as siteConfig.cors below. In Azure the platform
  // answers CORS (including preflights); locally the host reads this setting.
  {
    name: 'CORS_ALLOWED_ORIGINS'
    value: join(corsAllowedOrigins, ',')
  }
]

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      // Platform CORS for other web origins. No credentials: cross-origin callers
      // send an Entra ID bearer token, never the Easy Auth session cookie. Set on
      // every provisioning, so origins added by hand in the portal are replaced.
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: false
      }
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
        alwaysReady: alwaysReadyInstances > 0
          ? [
              {
                name: 'http'
                instanceCount: alwaysReadyInstances
              }
            ]
          : []
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// No basic-auth (publishing profile) credentials on the SCM endpoint:
// deployments go through Entra ID (azd / az functionapp deployment). Flex
// Consumption has no FTP endpoint, so there is no 'ftp' policy to turn off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service Authentication (Easy Auth) with Entra ID. Anonymous requests are
// let through (the web app's pages and the public generation/recommendation
// endpoints); when a user is signed in (session cookie from /.auth/login/aad,
// or a bearer token from a mobile app) the platform injects
// x-ms-client-principal, and the app itself answers 401 on /api/me*. No client
// secret: sign-in uses the ID token flow. The token store stays off: the web
// app only needs the session cookie and asks /api/me who is signed in, so no
// provider tokens are kept (and /.auth/me, which reads the store, is not used).
resource auth 'Microsoft.Web/sites/config@2025-03-01' = if (authEnabled) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            authClientId
            'api://${authClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
      // Same-origin redirects (e.g. post_login_redirect_uri=/account) are always
      // allowed; only other absolute URLs need listing here.
      allowedExternalRedirectUrls: authAllowedRedirectUrls
      // Keeps the #fragment of the page that started the sign-in.
      preserveUrlFragmentsForLogins: true
    }
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output uri string = 'https://${site.properties.defaultHostName}'
output authEnabled bool = authEnabled
