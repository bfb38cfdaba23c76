// The DataSource for the TypeORM CLI only (the app builds its own from the same options):
//   DATABASE_URL=postgres://… npx typeorm migration:run -d dist/ormconfig.js
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './server/src/database/data-source-options';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must be set for the TypeORM CLI');

export default new DataSource(dataSourceOptions(url));
