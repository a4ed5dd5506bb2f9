// The browser build's stand-in for @grpc/grpc-js: the generated proto modules build their
// gRPC client classes at load time, which the web app never uses (it speaks JSON over HTTP).
export class Client {}
export function makeGenericClientConstructor(): typeof Client {
  return Client;
}
