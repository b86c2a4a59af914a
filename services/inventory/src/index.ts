export { start, run, type InventoryService } from './main';
