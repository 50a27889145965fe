import { BlobModelRegistry } from '../../shared/store/modelRegistry.ts';

/** A registry whose transfer flips one byte of every tensors.bin it uploads (the job's read-back must catch it). */
export class CorruptingRegistry extends BlobModelRegistry {
  protected override async uploadFile(blobName: string, localPath: string): Promise<void> {
    await super.uploadFile(blobName, localPath);
    if (!blobName.endsWith('/tensors.bin')) return;
    const blob = this.container.getBlockBlobClient(blobName);
    const bytes = await blob.downloadToBuffer();
    bytes[bytes.length >> 1] ^= 0xff;
    await blob.upload(bytes, bytes.length);
  }
}
