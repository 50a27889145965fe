// Shared user-defined types for the infrastructure modules.

@export()
@description('Resource tags: string keys to string values (azd-env-name, azd-service-name, ...).')
type resourceTags = {
  *: string
}
