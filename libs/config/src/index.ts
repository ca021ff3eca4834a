export { ConfigError, loadConfig } from './load-config';
export {
  commonConfigSchema,
  serviceConfigSchema,
  type CommonConfig,
  type ServiceConfig,
} from './common.config';
