// Tracklist AI: whole-system infrastructure (azd-ready).
//
//   azd up
//   az deployment sub create -l <region> -f infra/main.bicep -p environmentName=<env> location=<region>
//
// Creates one resource group holding: a user-assigned managed identity, a
// storage account (models, corpus, deployment package), Cosmos DB for NoSQL
// (serverless), Log Analytics + Application Insights, a Flex Consumption
// Function App (Node 22) that serves the web app at / and the API under /api,
// with App Service Authentication, a Container
// Registry, and a Container Apps environment with the manual training job.
// See infra/README.md ("Deploy to Azure") for every parameter.
targetScope = 'subscription'

metadata description = 'Tracklist AI: Functions API, training job, storage, Cosmos DB and monitoring.'

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. Seeds resource names and is written to the azd-env-name tag.')
param environmentName string

// Regions that offer the Flex Consumption plan (the `location` list of the Azure-Samples
// functions-quickstart-typescript-azd template's main.bicep, commit 157d2cec, read 2026-12-04; the
// docs only point at `az functionapp list-flexconsumption-locations`), less the eastus2euap canary.
// Container Apps must be offered there too; re-check both lists when a region is refused.
@minLength(1)
@description('Azure region for the resource group and every resource (must offer Flex Consumption and Container Apps).')
@metadata({
  azd: {
    type: 'location'
  }
})
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
param location string

@description('Resource group name; empty = rg-<environmentName>.')
param resourceGroupName string = ''

@description('Entra ID app registration (client) id for App Service Authentication; empty = authentication not configured and AUTH_ENABLED=false.')
param authClientId string = ''

@description('Extra web origins allowed to call the API cross-origin (platform CORS and CORS_ALLOWED_ORIGINS): comma-separated scheme://host[:port] values, e.g. "https://a.example,https://b.example"; blanks are ignored; empty = none (the web app on the Function App\'s own origin needs none). Any entry containing "*" fails the deployment.')
param corsAllowedOrigins string = ''

@description('Absolute URLs App Service Authentication may redirect to after sign-in/sign-out (login.allowedExternalRedirectUrls): comma-separated, blanks ignored; empty = none (same-origin paths such as /account are always allowed). Any entry containing "*" fails the deployment.')
param authAllowedRedirectUrls string = ''

@description('Seconds between the Function App\'s checks for a newer model version (MODEL_REFRESH_SECONDS).')
@minValue(10)
@maxValue(86400)
param modelRefreshSeconds int = 300

@description('Retrain schedule for the timer trigger: NCRONTAB, 6 fields, UTC (RETRAIN_SCHEDULE). Default: Sundays 03:00 UTC.')
@minLength(11)
param retrainSchedule string = '0 0 3 * * 0'

@description('Flex Consumption instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Flex Consumption maximum instance count.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Always-ready instances for the HTTP functions (0 = scale to zero, no idle cost).')
@minValue(0)
@maxValue(20)
param functionAlwaysReadyInstances int = 0

@description('Training image reference set by hand; empty = the image azd deployed last (deployedTrainingImage), else a public placeholder (see README).')
param trainingImage string = ''

@description('Image azd deployed to the training job (SERVICE_TRAINING_IMAGE_NAME, written by `azd deploy training`), so a later `azd provision` keeps it; empty before the first deploy.')
param deployedTrainingImage string = ''

@description('TRAIN_GATE for the job: on (default) publishes a model only when it passes the quality gate; off publishes unchecked.')
@allowed([
  'on'
  'off'
])
param trainGate string = 'on'

@description('vCPU per training replica (string, e.g. "2.0").')
@allowed([
  '0.5'
  '1.0'
  '1.5'
  '2.0'
  '3.0'
  '4.0'
])
param trainingCpu string = '2.0'

@description('Memory per training replica; the Consumption profile needs 2 GiB per vCPU (2.0 -> 4Gi).')
@allowed([
  '1Gi'
  '2Gi'
  '3Gi'
  '4Gi'
  '6Gi'
  '8Gi'
])
param trainingMemory string = '4Gi'

@description('Maximum run time of one training execution, in seconds.')
@minValue(300)
@maxValue(86400)
param trainingTimeoutSeconds int = 14400

@description('Training budget preset passed to the job as TRAIN_BUDGET.')
@allowed([
  'fast'
  'full'
])
param trainBudget string = 'full'

@description('Corpus blob name in the corpus container (CORPUS_BLOB).')
@minLength(1)
param corpusBlob string = 'corpus.jsonl'

@description('Optional principal id (azd fills in the signed-in user) granted Storage Blob Data Contributor to upload the corpus; empty = none.')
param principalId string = ''

@description('Type of principalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

// ---------------------------------------------------------------------------
// Names and shared values
// ---------------------------------------------------------------------------

// Comma-separated azd variables -> lists: entries trimmed, empty entries dropped.
// Deployment-time checks: fail() makes the deployment fail when these root
// variables are evaluated, before any resource is deployed, if a list holds a
// wildcard. CORS "*" would let every site call the API; a wildcard redirect URL
// would be an open redirect after sign-in.
var corsOriginList = filter(map(split(corsAllowedOrigins, ','), origin => trim(origin)), origin => !empty(origin))
var corsOrigins = empty(filter(corsOriginList, origin => contains(origin, '*')))
  ? corsOriginList
  : fail('corsAllowedOrigins (CORS_ALLOWED_ORIGINS) must list explicit origins; "*" and wildcard entries are not allowed')
var authRedirectUrlList = filter(map(split(authAllowedRedirectUrls, ','), url => trim(url)), url => !empty(url))
var authRedirectUrls = empty(filter(authRedirectUrlList, url => contains(url, '*')))
  ? authRedirectUrlList
  : fail('authAllowedRedirectUrls (AUTH_ALLOWED_REDIRECT_URLS) must list explicit URLs; "*" and wildcard entries are not allowed')

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'tracklist-ai'
}

var modelContainerName = 'models'
var corpusContainerName = 'corpus'
var deploymentContainerName = 'app-package'
var cosmosDatabaseName = 'tracklist'

// Names are computed here (compile-time values) so that role assignment names
// derived from them are known to what-if before anything is deployed.
var names = {
  identity: 'id-${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  applicationInsights: 'appi-${resourceToken}'
  storage: 'st${resourceToken}'
  cosmos: 'cosmos-${resourceToken}'
  registry: 'cr${resourceToken}'
  containerAppsEnvironment: 'cae-${resourceToken}'
  trainingJob: 'caj-train-${resourceToken}'
  functionApp: 'func-${resourceToken}'
  functionPlan: 'plan-${resourceToken}'
}

// Public quick-start job image used only until the training image exists.
var placeholderTrainingImage = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

// ---------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    identityName: names.identity
  }
  dependsOn: [
    identity
  ]
}

module storage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    modelContainerName: modelContainerName
    corpusContainerName: corpusContainerName
    deploymentContainerName: deploymentContainerName
    identityName: names.identity
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
  dependsOn: [
    identity
  ]
}

module cosmos 'modules/cosmos.bicep' = {
  scope: rg
  name: 'cosmos'
  params: {
    name: names.cosmos
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    identityName: names.identity
  }
  dependsOn: [
    identity
  ]
}

module registry 'modules/registry.bicep' = {
  scope: rg
  name: 'registry'
  params: {
    name: names.registry
    location: location
    tags: tags
    identityName: names.identity
  }
  dependsOn: [
    identity
  ]
}

module training 'modules/training-job.bicep' = {
  scope: rg
  name: 'training'
  params: {
    environmentName: names.containerAppsEnvironment
    jobName: names.trainingJob
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    identityName: names.identity
    registryServer: registry.outputs.loginServer
    image: !empty(trainingImage)
      ? trainingImage
      : (!empty(deployedTrainingImage) ? deployedTrainingImage : placeholderTrainingImage)
    cpu: trainingCpu
    memory: trainingMemory
    replicaTimeoutSeconds: trainingTimeoutSeconds
    storageBlobEndpoint: storage.outputs.blobEndpoint
    modelContainerName: modelContainerName
    corpusContainerName: corpusContainerName
    corpusBlobName: corpusBlob
    trainBudget: trainBudget
    trainGate: trainGate
  }
  dependsOn: [
    identity
  ]
}

module api 'modules/function-app.bicep' = {
  scope: rg
  name: 'api'
  params: {
    name: names.functionApp
    planName: names.functionPlan
    location: location
    tags: tags
    serviceName: 'api'
    identityName: names.identity
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    modelContainerName: modelContainerName
    corpusContainerName: corpusContainerName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    applicationInsightsName: names.applicationInsights
    trainingJobResourceId: training.outputs.jobId
    modelRefreshSeconds: modelRefreshSeconds
    retrainSchedule: retrainSchedule
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    alwaysReadyInstances: functionAlwaysReadyInstances
    authClientId: authClientId
    authAllowedRedirectUrls: authRedirectUrls
    corsAllowedOrigins: corsOrigins
  }
  // monitoring (App Insights) is already upstream through training.
  dependsOn: [
    identity
  ]
}

// ---------------------------------------------------------------------------
// Outputs (azd writes these into .azure/<env>/.env)
// ---------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_MANAGED_IDENTITY_NAME string = identity.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_FUNCTION_APP_URL string = api.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_COSMOS_ACCOUNT_NAME string = cosmos.outputs.name
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = training.outputs.environmentName
output AZURE_TRAINING_JOB_NAME string = training.outputs.jobName
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output MODEL_STORAGE_ACCOUNT_URL string = storage.outputs.blobEndpoint
output MODEL_CONTAINER string = modelContainerName
output CORPUS_CONTAINER string = corpusContainerName
output CORPUS_BLOB string = corpusBlob
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = cosmosDatabaseName
output TRAINING_JOB_RESOURCE_ID string = training.outputs.jobId
output AUTH_ENABLED bool = api.outputs.authEnabled
// The web app is served by the Function App itself (API under /api).
output AZURE_WEB_URL string = api.outputs.uri
output CORS_ALLOWED_ORIGINS string = join(corsOrigins, ',')
