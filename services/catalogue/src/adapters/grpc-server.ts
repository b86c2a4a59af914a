import { status } from '@grpc/grpc-js';
import {
  CatalogueServiceService,
  type CatalogueServiceServer,
  type ListProductsResponse,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import type { PageRequest } from '@o2o/contracts/gen/o2o/common/v1/paging';
import {
  errorMapper,
  type InFlight,
  pageResponse,
  readPageRequest,
  type ServedService,
  type StatusTable,
  unary,
} from '@o2o/kit-grpc';
import type { Logger } from '@o2o/kit-log';
import { createProduct } from '../app/create-product';
import {
  activateProduct,
  type ChangeRequest,
  discontinueProduct,
  setPrice,
  updateProduct,
} from '../app/change-product';
import type { Clock, Page, ProductRepository } from '../app/ports';
import { batchGetSkus, getProduct, listProducts, searchProducts } from '../app/queries';
import { CatalogueError, type CatalogueErrorKind, isCatalogueError } from '../domain/errors';
import type { ProductState } from '../domain/product';
import {
  MappingViolations,
  moneyFromPb,
  priceChannelFromPb,
  productInputFromPb,
  productToPb,
  salesChannelFilterFromPb,
  skuToPb,
  statusFilterFromPb,
  statusToPb,
  versionFromPb,
} from './proto-mapping';

/** The one table from catalogue error kinds to gRPC statuses. */
export const CATALOGUE_STATUS: StatusTable<CatalogueErrorKind> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'already-exists': status.ALREADY_EXISTS,
  'failed-precondition': status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
};

/** The CatalogueService implementation: maps the wire to use cases and back, nothing more. */
export function catalogueGrpcService(deps: {
  products: ProductRepository;
  clock: Clock;
  logger: Logger;
  inFlight?: InFlight;
  /** Called after every successful write of a product, to wake the outbox relay at once and point it there. */
  afterWrite?: (productId: string) => void;
}): ServedService {
  const mapError = errorMapper(isCatalogueError, CATALOGUE_STATUS, deps.logger);
  const wrap = <Req, Res>(handler: (request: Req) => Promise<Res>) => unary(handler, mapError, deps.inFlight);
  const written = (state: ProductState) => {
    deps.afterWrite?.(state.id);
    return { product: productToPb(state) };
  };

  const implementation: CatalogueServiceServer = {
    createProduct: wrap(async (req) => {
      const v = new MappingViolations();
      const input = productInputFromPb(req.product, 'product', v);
      v.check();
      return written(await createProduct(deps, { requestId: req.requestId, input }));
    }),

    updateProduct: wrap(async (req) => {
      const v = new MappingViolations();
      const input = productInputFromPb(req.product, 'product', v);
      const target = changeTarget(req, v);
      const fields = req.updateMask ?? [];
      // Only the masked fields' values matter: problems in fields not being updated are not the caller's concern.
      const relevant = v.list.filter(
        (x) => fields.some((f) => x.field.startsWith(`product.${f}`)) || !x.field.startsWith('product.'),
      );
      if (relevant.length > 0) throw CatalogueError.invalid(relevant);
      return written(await updateProduct(deps, { ...target, input, fields }));
    }),

    setPrice: wrap(async (req) => {
      const v = new MappingViolations();
      const target = changeTarget(req, v);
      const channel = priceChannelFromPb(req.channel, 'channel', v);
      const price = moneyFromPb(req.price, 'price', v);
      v.check();
      return written(await setPrice(deps, { ...target, skuCode: req.skuCode, channel, price }));
    }),

    activateProduct: wrap(async (req) => {
      const v = new MappingViolations();
      const target = changeTarget(req, v);
      v.check();
      return written(await activateProduct(deps, target));
    }),

    discontinueProduct: wrap(async (req) => {
      const v = new MappingViolations();
      const target = changeTarget(req, v);
      v.check();
      return written(await discontinueProduct(deps, { ...target, reason: req.reason }));
    }),

    getProduct: wrap(async (req) => ({ product: productToPb(await getProduct(deps, req.productId)) })),

    batchGetSkus: wrap(async (req) => {
      const { found, missing } = await batchGetSkus(deps, req.skuCodes);
      return {
        skus: found.map((s) => ({
          sku: skuToPb(s.sku),
          productId: s.productId,
          productName: s.productName,
          productStatus: statusToPb(s.productStatus),
          productVersion: String(s.productVersion),
        })),
        missingSkuCodes: missing,
      };
    }),

    listProducts: wrap(async (req): Promise<ListProductsResponse> => {
      const v = new MappingViolations();
      const filter = {
        status: statusFilterFromPb(req.status, 'status', v),
        categoryPrefix: req.category || undefined,
        sellableChannel: salesChannelFilterFromPb(req.sellableChannel, 'sellable_channel', v),
        brand: req.brand || undefined,
      };
      v.check();
      const page = readPage(req.page, filter);
      return productsPage(await listProducts(deps, filter, page), filter);
    }),

    searchProducts: wrap(async (req) => {
      const filter = { query: req.query };
      const page = readPage(req.page, filter);
      return productsPage(await searchProducts(deps, req.query, page), filter);
    }),
  };

  return { name: 'o2o.catalogue.v1.CatalogueService', definition: CatalogueServiceService, implementation };
}

/** The part every change request shares: the client's key, the product, the version it last read. */
function changeTarget(
  req: { requestId: string; productId: string; expectedVersion: string },
  v: MappingViolations,
): ChangeRequest {
  return {
    requestId: req.requestId,
    productId: req.productId,
    expectedVersion: versionFromPb(req.expectedVersion, 'expected_version', v),
  };
}

function readPage(page: PageRequest | undefined, filters: unknown): { size: number; after?: string } {
  const { size, after, violations } = readPageRequest(page, filters);
  if (violations.length > 0) throw CatalogueError.invalid(violations);
  return { size, after };
}

function productsPage(page: Page<ProductState>, filters: unknown): ListProductsResponse {
  return {
    products: page.items.map(productToPb),
    page: {
      ...pageResponse(page.after, filters),
    },
  };
}
