export { ServiceChassisModule, type ServiceChassisOptions } from './service-chassis.module';
