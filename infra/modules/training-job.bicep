// Container Apps environment (Consumption workload profile) and the manually
// triggered Container Apps Job that trains the model and writes versioned
// artifacts to blob storage. The Function App's timer trigger starts it via
// ARM (jobs/{name}/start), allowed by a custom role scoped to this job only.

import { resourceTags } from 'types.bicep'

@description('Container Apps environment name.')
param environmentName string

@description('Container Apps Job name (2-32 lowercase letters, digits, hyphens).')
@minLength(2)
@maxLength(32)
param jobName string

@description('Azure region.')
param location string

@description('Tags applied to the resources.')
param tags resourceTags

@description('Log Analytics workspace receiving the environment logs (diagnostic setting, no shared key).')
param logAnalyticsWorkspaceId string

@description('Name of the user-assigned managed identity (same resource group) the job runs as; the Function App uses the same identity and is allowed to start the job.')
param identityName string

@description('Registry login server the job pulls from with the identity.')
param registryServer string

@description('Full image reference of the training container.')
param image string

@description('vCPU per replica, as a string (for example "2.0"). Consumption profile: memory must be 2 GiB per vCPU.')
@allowed([
  '0.5'
  '1.0'
  '1.5'
  '2.0'
  '3.0'
  '4.0'
])
param cpu string

@description('Memory per replica (for example "4Gi").')
@allowed([
  '1Gi'
  '2Gi'
  '3Gi'
  '4Gi'
  '6Gi'
  '8Gi'
])
param memory string

@description('Maximum run time of one execution, in seconds.')
@minValue(60)
param replicaTimeoutSeconds int

@description('Blob endpoint of the storage account (MODEL_STORAGE_ACCOUNT_URL).')
param storageBlobEndpoint string

@description('Models container name.')
param modelContainerName string

@description('Corpus container name.')
param corpusContainerName string

@description('Corpus blob name inside the corpus container.')
param corpusBlobName string

@description('Training budget preset.')
@allowed([
  'fast'
  'full'
])
param trainBudget string

@description('TRAIN_GATE: on publishes only candidates that pass the quality gate; off publishes unchecked.')
@allowed([
  'on'
  'off'
])
param trainGate string

@description('azd service name the job is tagged with (azure.yaml `training`, host containerapp): azd deploy builds the image in the registry and sets it on this job.')
param serviceName string = 'training'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs go to Azure Monitor and from there to Log Analytics through the
    // diagnostic setting below: no workspace shared key in the template.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource job 'Microsoft.App/jobs@2025-07-01' = {
  name: jobName
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: replicaTimeoutSeconds
      replicaRetryLimit: 1
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      registries: [
        {
          server: registryServer
          identity: identity.id
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'training'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: [
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
              name: 'CORPUS_BLOB'
              value: corpusBlobName
            }
            {
              name: 'TRAIN_BUDGET'
              value: trainBudget
            }
            {
              name: 'TRAIN_GATE'
              value: trainGate
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: identity.properties.clientId
            }
          ]
        }
      ]
    }
  }
}

// Custom role with the single action needed to start an execution; the
// built-in roles that can start a job (Contributor, Container Apps Jobs
// Operator) also allow stopping executions or changing the job.
resource jobStarterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'tracklist-training-job-starter')
  properties: {
    roleName: 'Tracklist training job starter (${uniqueString(resourceGroup().id)})'
    description: 'Can start executions of the Tracklist AI training Container Apps Job.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.App/jobs/start/action'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource jobStarterAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(job.id, identity.id, jobStarterRole.id)
  scope: job
  properties: {
    roleDefinitionId: jobStarterRole.id
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

output environmentId string = environment.id
output environmentName string = environment.name
output jobId string = job.id
output jobName string = job.name
