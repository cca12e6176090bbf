// What each byte of a checkpoint file holds: the labels of the byte map, in
// the order reports list them. Readers label regions with these constants,
// the byte map sums by them, and "unlabelled" catches the rest so that the
// map always adds up to the file size.
#pragma once

#include <string_view>

namespace ptscope::label {

inline constexpr std::string_view kTensorData = "tensor data";
inline constexpr std::string_view kUnusedStorage = "unused storage";
// Storage whose every tensor is a quantized weight's scale, zero point,
// group index or quant state.
inline constexpr std::string_view kQuantMetadata = "quantization metadata";
inline constexpr std::string_view kPickle = "pickle";
inline constexpr std::string_view kTorchScriptCode = "TorchScript code";
inline constexpr std::string_view kTorchScriptDebug = "TorchScript debug info";
inline constexpr std::string_view kTorchScriptConstants = "TorchScript constants";
inline constexpr std::string_view kArchiveMetadata = "archive metadata";
inline constexpr std::string_view kLegacyHeader = "legacy header";
inline constexpr std::string_view kStorageKeyList = "storage key list";
inline constexpr std::string_view kStorageSizeHeaders = "storage size headers";
inline constexpr std::string_view kSafetensorsHeader = "safetensors header";
inline constexpr std::string_view kZipLocalHeaders = "zip local headers";
inline constexpr std::string_view kAlignmentPadding = "alignment padding";
inline constexpr std::string_view kZipDataDescriptors = "zip data descriptors";
inline constexpr std::string_view kZipCentralDirectory = "zip central directory";
inline constexpr std::string_view kZipEndRecords = "zip end records";
inline constexpr std::string_view kExtraFiles = "extra files";
// torch.distributed.checkpoint data files: Bytes entries (io.BytesIO items),
// and what no _StorageInfo of `.metadata` covers.
inline constexpr std::string_view kDcpBytesEntries = "DCP bytes entries";
inline constexpr std::string_view kDcpOverhead = "DCP data file overhead";
inline constexpr std::string_view kOtherRecords = "other records";
inline constexpr std::string_view kUnlabelled = "unlabelled";

// Every label above, in report order.
inline constexpr std::string_view kOrder[] = {
    kTensorData, kQuantMetadata, kUnusedStorage, kPickle, kTorchScriptCode, kTorchScriptDebug,
    kTorchScriptConstants, kArchiveMetadata, kLegacyHeader, kStorageKeyList,
    kStorageSizeHeaders, kSafetensorsHeader, kZipLocalHeaders, kAlignmentPadding,
    kZipDataDescriptors, kZipCentralDirectory, kZipEndRecords, kExtraFiles,
    kDcpBytesEntries, kDcpOverhead, kOtherRecords, kUnlabelled,
};

}  // namespace ptscope::label
