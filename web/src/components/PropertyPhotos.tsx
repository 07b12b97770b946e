"use client";
// A property's photos: upload (several at once, with a caption), list, reorder and delete. The images are
// served by the public API, so thumbnails show once the property is listed.
import { Button, Card, FileButton, Group, Image, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import { ProblemAlert } from "@/components/ProblemAlert";
import { useAgency } from "@/hooks/agency";
import { key } from "@/hooks/keys";

export function PropertyPhotos({ propertyId, listed, agencySlug, canWrite }: { propertyId: string; listed: boolean; agencySlug: string | null; canWrite: boolean }) {
  const t = useTranslations("properties");
  const agency = useAgency();
  const qc = useQueryClient();
  const [caption, setCaption] = useState("");
  const photos = useQuery({
    queryKey: key(agency, "property", propertyId, "photos"),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/properties/{property_id}/photos", { params: { path: { property_id: propertyId } }, signal })),
    enabled: !!agency,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: key(agency, "property", propertyId, "photos") });
  const upload = useMutation({
    mutationFn: async (files: File[]) => {
      for (const file of files) {
        const form = new FormData();
        form.append("file", file);
        if (caption) form.append("caption", caption);
        await unwrap(api.POST("/api/v1/properties/{property_id}/photos", { params: { path: { property_id: propertyId } }, body: form as never, bodySerializer: (b: unknown) => b as FormData }));
      }
    },
    onSuccess: () => { setCaption(""); void refresh(); },
    onError: () => void refresh(),
  });
  const reorder = useMutation({
    mutationFn: (ids: string[]) => unwrap(api.PUT("/api/v1/properties/{property_id}/photos/order", { params: { path: { property_id: propertyId } }, body: { photo_ids: ids } })),
    onSuccess: (data) => { qc.setQueryData(key(agency, "property", propertyId, "photos"), data); },
    onError: () => void refresh(),
  });
  const sorted = [...(photos.data ?? [])].sort((a, b) => a.position - b.position);
  const move = (index: number, by: -1 | 1) => {
    const ids = sorted.map((p) => p.id);
    const [moved] = ids.splice(index, 1);
    if (moved === undefined) return;
    ids.splice(index + by, 0, moved);
    reorder.mutate(ids);
  };
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/properties/{property_id}/photos/{photo_id}", { params: { path: { property_id: propertyId, photo_id: id } } })),
    onSuccess: () => void refresh(),
  });
  return (
    <Card withBorder data-testid="photos">
      <Title order={2} size="h5" mb="xs">{t("photos")}</Title>
      <ProblemAlert error={photos.error ?? upload.error ?? reorder.error ?? remove.error} />
      {photos.data && photos.data.length === 0 && <Text size="sm">{t("noPhotos")}</Text>}
      <SimpleGrid cols={{ base: 2, sm: 3 }} mb="sm">
        {sorted.map((p, i) => (
          <Stack key={p.id} gap={4} data-testid="photo">
            {listed && agencySlug ? (
              <Image src={`/api/v1/public/${agencySlug}/photos/${p.id}`} alt={p.caption ?? ""} h={110} fit="cover" radius="sm" />
            ) : (
              <Text size="xs" c="gray.7" h={110} bg="gray.1" p="xs" style={{ borderRadius: 4 }}>{t("photoHidden")}</Text>
            )}
            <Text size="xs">{i + 1}. {p.caption ?? ""} · {Math.round(p.size_bytes / 1024)} kB</Text>
            {canWrite && (
              <Group gap={4}>
                <Button size="compact-xs" variant="default" disabled={i === 0 || reorder.isPending} aria-label={t("photoEarlier", { n: i + 1 })} onClick={() => move(i, -1)}>↑</Button>
                <Button size="compact-xs" variant="default" disabled={i === sorted.length - 1 || reorder.isPending} aria-label={t("photoLater", { n: i + 1 })} onClick={() => move(i, 1)}>↓</Button>
                <Button size="compact-xs" variant="default" color="red.9" onClick={() => { if (window.confirm(t("deletePhotoConfirm"))) remove.mutate(p.id); }}>{t("deletePhoto")}</Button>
              </Group>
            )}
          </Stack>
        ))}
      </SimpleGrid>
      {canWrite && (
        <Group align="flex-end">
          <TextInput label={t("caption")} value={caption} onChange={(e) => setCaption(e.currentTarget.value)} maxLength={300} w={260} />
          <FileButton onChange={(files) => files.length && upload.mutate(files)} accept="image/jpeg,image/png,image/webp" multiple>
            {(props) => <Button {...props} loading={upload.isPending} data-testid="upload-photos">{t("upload")}</Button>}
          </FileButton>
        </Group>
      )}
      <Text size="xs" c="gray.7" mt="xs">{t("photoOrder")}</Text>
    </Card>
  );
}
