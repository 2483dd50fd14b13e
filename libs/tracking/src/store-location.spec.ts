import * as path from 'path';
import { DEFAULT_STORE_PATH, resolveTrackingUri } from './store-location';

describe('resolveTrackingUri', () => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it('explicit flags beat the environment; empty values count as unset', () => {
    process.env.VMR_TRACKING_URI = 'http://server:5000';
    process.env.MLFLOW_TRACKING_URI = 'http://mlflow:5000';
    expect(resolveTrackingUri({ trackingUri: 'http://a:1' })).toBe('http://a:1');
    expect(resolveTrackingUri({ store: '/tmp/x.db' })).toBe('/tmp/x.db');
    expect(resolveTrackingUri({})).toBe('http://server:5000');
    process.env.VMR_TRACKING_URI = '';
    expect(resolveTrackingUri({})).toBe('http://mlflow:5000');
    delete process.env.MLFLOW_TRACKING_URI;
    process.env.VMR_STORE = '';
    expect(resolveTrackingUri({ trackingUri: '' })).toBe(path.resolve(DEFAULT_STORE_PATH));
    expect(resolveTrackingUri({ trackingUri: 'file:/tmp/y.db' })).toBe('/tmp/y.db');
  });
});
