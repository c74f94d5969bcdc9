import { z } from 'zod';
import { productIdParams } from '../http/schemas';
import { ifNoneMatchHeader, NOT_MODIFIED, route } from '../http/route';
import { createProductBody, listProductsQuery, product, productList, updateProductBody } from './schema';

/** The catalogue's routes, one declaration each (lib/http/route.ts says what a declaration holds). */

const ifMatch = z.object({
  'If-Match': z.string().optional().meta({
    description: 'Update only if the product still has this ETag; otherwise 412 precondition_failed.',
  }),
});

export const listProductsRoute = route({
  method: 'GET',
  path: '/products',
  functionName: 'listProducts',
  lambda: { handler: 'functions/products/list-products', memorySize: 512, timeout: 6 },
  admin: false,
  query: listProductsQuery,
  otherHeaders: ifNoneMatchHeader,
  tag: 'Products',
  summary: 'List and search products',
  description:
    'Live products, page by page (`page`, `per_page`) or, for deep catalogues, by keyset `cursor`. ' +
    'Search the names with `q`, filter by `min_price`/`max_price`/`in_stock`, order with `sort` ' +
    '(ties by id ascending); filters combine with AND. Without filters `total` is exact; with filters it is exact ' +
    'up to 10,000 matches, past that 10,000 with `total_is_exact: false`. A page past the end is an empty list.',
  queryExample: { q: 'cafe', min_price: '10', max_price: '25.50', in_stock: 'true', sort: '-price', per_page: '10' },
  responses: [
    { status: 200, description: 'A page of products.', schema: productList, headers: ['ETag', 'Cache-Control'] },
    { ...NOT_MODIFIED, headers: ['ETag', 'Cache-Control'] },
  ],
  errors: [],
});

export const createProductRoute = route({
  method: 'POST',
  path: '/products',
  functionName: 'createProduct',
  lambda: { handler: 'functions/products/create-product', memorySize: 512, timeout: 15 },
  admin: true,
  body: createProductBody,
  tag: 'Products',
  summary: 'Create a product',
  bodyExample: { name: 'Mug', description: 'A large mug', price: 19.99, stock: 100 },
  responses: [{ status: 201, description: 'The new product.', schema: product, headers: ['Location', 'ETag'] }],
  errors: ['product_name_taken'],
});

export const getProductRoute = route({
  method: 'GET',
  path: '/products/{id}',
  functionName: 'getProduct',
  lambda: { handler: 'functions/products/get-product', memorySize: 512, timeout: 6 },
  admin: false,
  params: productIdParams,
  otherHeaders: ifNoneMatchHeader,
  tag: 'Products',
  summary: 'Get a product',
  responses: [
    { status: 200, description: 'The product.', schema: product, headers: ['ETag', 'Cache-Control'] },
    { ...NOT_MODIFIED, headers: ['ETag', 'Cache-Control'] },
  ],
  errors: ['product_not_found'],
});

export const updateProductRoute = route({
  method: 'PATCH',
  path: '/products/{id}',
  functionName: 'updateProduct',
  lambda: { handler: 'functions/products/update-product', memorySize: 512, timeout: 15 },
  admin: true,
  body: updateProductBody,
  params: productIdParams,
  otherHeaders: ifMatch,
  tag: 'Products',
  summary: 'Update a product',
  description: 'Any non-empty subset of the fields; with `If-Match`, only if nobody changed the product since.',
  bodyExample: { price: 17.5, stock: 80, stock_shards: 8 },
  responses: [{ status: 200, description: 'The updated product.', schema: product, headers: ['ETag'] }],
  errors: ['product_not_found', 'product_name_taken', 'precondition_failed'],
});

export const deleteProductRoute = route({
  method: 'DELETE',
  path: '/products/{id}',
  functionName: 'deleteProduct',
  lambda: { handler: 'functions/products/delete-product', memorySize: 512, timeout: 15 },
  admin: true,
  params: productIdParams,
  tag: 'Products',
  summary: 'Archive a product',
  description: 'The product stays on past orders; afterwards GET gives 404 and new orders for it get 422.',
  responses: [{ status: 204, description: 'Archived.' }],
  errors: ['product_not_found'],
});

export const PRODUCT_ROUTES = [
  listProductsRoute,
  createProductRoute,
  getProductRoute,
  updateProductRoute,
  deleteProductRoute,
] as const;
