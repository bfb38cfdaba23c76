import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiProblem, FieldError } from './problem';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    // A missing member fails every rule after "is required" too; only that one says what to do.
    const constraints = e.constraints?.isDefined ? { isDefined: e.constraints.isDefined } : (e.constraints ?? {});
    const own = Object.values(constraints).map((message) => ({ field, message }));
    return own.concat(flatten(e.children ?? [], field));
  });
}

/**
 * Global validation: unknown members are refused (not silently dropped), and every failed rule
 * is listed per field in the problem body. Rejected values are never echoed.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      return ApiProblem.unprocessable(`The request is invalid: ${list.map((e) => `${e.field}: ${e.message}`).join('; ')}`, list);
    },
  });
}
