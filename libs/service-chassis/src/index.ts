export {
  ServiceChassisModule,
  type ServiceChassisOptions,
  type ServiceHttpApiOptions,
} from './service-chassis.module';
