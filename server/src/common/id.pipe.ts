import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiProblem } from './problem';

/** Database ids are positive 32-bit integers; anything else is a 400, never a database error. */
@Injectable()
export class IdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[0-9]{1,10}$/.test(value) || Number(value) < 1 || Number(value) > 2147483647) {
      throw ApiProblem.badRequest('id must be a positive integer', 'invalid_id', [{ field: 'id', message: 'must be a positive integer' }]);
    }
    return Number(value);
  }
}
