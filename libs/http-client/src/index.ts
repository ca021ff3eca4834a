export {
  HttpDeadlinePassed,
  HttpRequestInvalid,
  type HttpAnswer,
  type HttpRequest,
  isRedirect,
  sendHttp,
} from './http-request';
