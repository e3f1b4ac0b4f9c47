import { IstioCanary } from '../../constructs/istio/istio-canary';
import { ofKind, only, synthObjects } from '../helpers';

describe('IstioCanary', () => {
  it('splits traffic between stable and canary subsets by weight', () => {
    // GIVEN / WHEN
    const objects = synthObjects(
      (chart) =>
        new IstioCanary(chart, 'Orders', { host: 'orders', namespace: 'shop', weight: 10, port: 8080 }),
    );
    // THEN
    expect(objects).toMatchSnapshot();
    expect(only(objects, 'DestinationRule').spec).toEqual({
      host: 'orders',
      subsets: [
        { name: 'stable', labels: { version: 'stable' } },
        { name: 'canary', labels: { version: 'canary' } },
      ],
    });
    expect(only(objects, 'VirtualService').spec).toEqual({
      hosts: ['orders'],
      http: [
        {
          name: 'weighted',
          route: [
            { destination: { host: 'orders', subset: 'stable', port: { number: 8080 } }, weight: 90 },
            { destination: { host: 'orders', subset: 'canary', port: { number: 8080 } }, weight: 10 },
          ],
        },
      ],
    });
    expect(ofKind(objects, 'Gateway')).toHaveLength(0);
  });

  it('routes requests with the canary header to the canary first', () => {
    const vs = only(
      synthObjects(
        (chart) =>
          new IstioCanary(chart, 'Orders', {
            host: 'orders',
            weight: 0,
            header: { name: 'x-canary', value: 'always' },
          }),
      ),
      'VirtualService',
    );
    const http = (vs.spec as { http: { name: string; match?: unknown }[] }).http;
    expect(http.map((h) => h.name)).toEqual(['canary-header', 'weighted']);
    expect(http[0].match).toEqual([{ headers: { 'x-canary': { exact: 'always' } } }]);
  });

  it('creates a Gateway and binds the routes to it and to the mesh when asked for', () => {
    const objects = synthObjects(
      (chart) =>
        new IstioCanary(chart, 'Orders', {
          host: 'orders',
          weight: 5,
          gateway: { hosts: ['orders.example.com'] },
        }),
    );
    expect(only(objects, 'Gateway').spec).toEqual({
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['orders.example.com'] }],
    });
    expect(only(objects, 'VirtualService').spec).toMatchObject({
      hosts: ['orders', 'orders.example.com'],
      gateways: ['orders', 'mesh'],
    });
  });

  it('exposes the effective weights', () => {
    synthObjects((chart) => {
      expect(new IstioCanary(chart, 'A', { host: 'a', weight: 30 }).weights).toEqual({
        stable: 70,
        canary: 30,
      });
      expect(new IstioCanary(chart, 'B', { host: 'b' }).weights).toEqual({ stable: 100, canary: 0 });
    });
  });

  it('fails when the weight is 150', () => {
    expect(() => synthObjects((chart) => new IstioCanary(chart, 'A', { host: 'a', weight: 150 }))).toThrow(
      "'weight' is 150; it must be an integer between 0 and 100 (stable gets 100 - weight)",
    );
  });

  it('fails when the header has no value', () => {
    expect(() =>
      synthObjects(
        (chart) => new IstioCanary(chart, 'A', { host: 'a', header: { name: 'x-canary', value: '' } }),
      ),
    ).toThrow(`'header.value' is ""; it must be a non-empty string`);
  });

  it('fails when the host is not a DNS name', () => {
    expect(() => synthObjects((chart) => new IstioCanary(chart, 'A', { host: 'Orders_Svc' }))).toThrow(
      `'host' is "Orders_Svc"; it must be a DNS subdomain`,
    );
  });
});
