import type { TableSpec, WideColumn } from '@platform/kit';

/** What an asset is; its bytes are in the object store under `assets/<asset_id>`. */
const ASSETS: TableSpec = {
  name: 'chat_assets',
  columns: {
    asset_id: 'text',
    content_type: 'text',
    size: 'bigint',
    uploaded_by: 'text',
    created_at: 'timestamp',
  },
  partitionKey: ['asset_id'],
};

export interface Asset {
  assetId: string;
  contentType: string;
  size: number;
  uploadedBy: string;
  createdAt: number;
}

/** Asset rows in the wide-column store, written once per content hash. */
export class AssetStore {
  readonly #db: WideColumn;

  constructor(db: WideColumn) {
    this.#db = db;
  }

  define(): Promise<void> {
    return this.#db.defineTables([ASSETS]);
  }

  /** Writes the row unless the asset has one; true when this call wrote it. */
  create(asset: Asset): Promise<boolean> {
    return this.#db.insert(
      ASSETS.name,
      {
        asset_id: asset.assetId,
        content_type: asset.contentType,
        size: asset.size,
        uploaded_by: asset.uploadedBy,
        created_at: asset.createdAt,
      },
      { ifNotExists: true },
    );
  }

  async get(assetId: string): Promise<Asset | undefined> {
    const row = await this.#db.get(ASSETS.name, { asset_id: assetId });
    return (
      row && {
        assetId,
        contentType: row.content_type as string,
        size: row.size as number,
        uploadedBy: row.uploaded_by as string,
        createdAt: row.created_at as number,
      }
    );
  }
}
