import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidateBy } from 'class-validator';
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

/** A NUL character or a UTF-16 surrogate without its pair: PostgreSQL's text and jsonb cannot store either. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: unknown): boolean {
  return typeof value !== 'string' || !UNSTORABLE.test(value);
}

/** Refuses text the database cannot store (NUL, unpaired surrogates) with a 422 naming the field, not a 500. */
export function IsStorableText() {
  return ValidateBy({
    name: 'isStorableText',
    validator: {
      validate: isStorableText,
      defaultMessage: (args) => `${args?.property ?? 'value'} must not contain NUL characters or unpaired surrogates`,
    },
  });
}

/**
 * Text from outside (a leak report's url) made storable instead of refused: cut at `max` code
 * points (never inside a surrogate pair), NUL removed, unpaired surrogates replaced.
 */
export function storableText(value: string | null | undefined, max: number): string | undefined {
  // `@IsOptional()` lets null through as well as undefined.
  if (value === undefined || value === null) return undefined;
  const cut = Array.from(value).slice(0, max).join('');
  // eslint-disable-next-line no-control-regex -- NUL is exactly what this removes
  return cut.replace(/\u0000/g, '').replace(/[\uD800-\uDFFF]/g, (c, i: number, s: string) => {
    const code = c.charCodeAt(0);
    const paired = code < 0xdc00 ? /[\uDC00-\uDFFF]/.test(s[i + 1] ?? '') : /[\uD800-\uDBFF]/.test(s[i - 1] ?? '');
    return paired ? c : '\uFFFD';
  });
}
